#include "collector/query/query_service.h"

#include <pqxx/pqxx>

#include <map>

#include "absl/strings/str_cat.h"
#include "collector/store/advisories.h"
#include "collector/store/events.h"
#include "collector/store/graph.h"
#include "collector/store/policy.h"
#include "collector/store/queries.h"
#include "collector/store/revocations.h"
#include "collector/store/segments.h"
#include "common/logging.h"
#include "common/text.h"
#include "common/tls.h"
#include "spdlog/spdlog.h"

namespace auscult::collector {
namespace {

// Runs one query with a pool connection, mapping failures to gRPC codes. A broken connection is
// retried once on a fresh one (the database may have restarted since the connection was opened).
template <typename Response, typename Fn>
grpc::Status Run(ConnectionPool* pool, const char* method, Response* response, Fn&& fn) {
  for (int attempt = 0;; ++attempt) {
    ConnectionPool::Lease lease = pool->Acquire();
    try {
      absl::StatusOr<Response> r = fn(lease.get());
      if (!r.ok())
        return grpc::Status(static_cast<grpc::StatusCode>(r.status().code()), std::string(r.status().message()));
      *response = *std::move(r);
      return grpc::Status::OK;
    } catch (const pqxx::broken_connection& e) {
      lease.MarkBroken();
      if (attempt == 0) continue;
      return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("database unavailable: ", e.what()));
    } catch (const std::exception& e) {
      spdlog::error("{}: {}", method, e.what());
      return grpc::Status(grpc::StatusCode::INTERNAL, absl::StrCat(method, ": database error"));
    }
  }
}

// Over mutual TLS: queries need an analyst's or an admin's certificate, changes an admin's (a
// sensor's certificate opens nothing here), presented directly or forwarded by a balancer (a
// proxy: connection). Without TLS (--insecure) the network is trusted.
grpc::Status Authorize(grpc::ServerContext* context, const CertificateVerifier* verifier, const char* method,
                       bool change) {
  absl::StatusOr<std::optional<Caller>> caller = IdentifyCaller(*context, verifier);
  if (!caller.ok()) {
    AUSCULT_LOG_LIMITED(spdlog::level::warn, "{}: refused {}: {}", method, context->peer(),
                        Printable(AsStd(caller.status().message()), 256));
    return grpc::Status(grpc::StatusCode::PERMISSION_DENIED, std::string(caller.status().message()));
  }
  if (!caller->has_value()) return grpc::Status::OK;
  const std::string& role = (*caller)->identity.role;
  if (role == "admin" || (role == "analyst" && !change)) return grpc::Status::OK;
  AUSCULT_LOG_LIMITED(spdlog::level::warn, "{}: refused to {}:{}", method, role,
                      Printable((*caller)->identity.name, 64));
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      change ? absl::StrCat(method, ": needs an admin certificate (common name admin:<name>)")
                             : absl::StrCat(method, ": needs an analyst or admin certificate"));
}

// Who made a change, as recorded and logged: the certificate's name over TLS, else the address.
std::string Who(grpc::ServerContext* context, const CertificateVerifier* verifier) {
  absl::StatusOr<std::optional<Caller>> caller = IdentifyCaller(*context, verifier);
  if (caller.ok() && caller->has_value()) return absl::StrCat((*caller)->identity.role, ":", (*caller)->identity.name);
  return context->peer();
}

}  // namespace

grpc::Status QueryService::ListDevices(grpc::ServerContext* context, const v1::ListDevicesRequest* request,
                                       v1::ListDevicesResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListDevices", false); !a.ok()) return a;
  return Run(pool_, "ListDevices", response,
             [&](pqxx::connection_base& c) { return collector::ListDevices(c, *request); });
}

grpc::Status QueryService::GetDevice(grpc::ServerContext* context, const v1::GetDeviceRequest* request,
                                     v1::Device* response) {
  if (grpc::Status a = Authorize(context, verifier_, "GetDevice", false); !a.ok()) return a;
  return Run(pool_, "GetDevice", response, [&](pqxx::connection_base& c) { return collector::GetDevice(c, *request); });
}

grpc::Status QueryService::ListConnections(grpc::ServerContext* context, const v1::ListConnectionsRequest* request,
                                           v1::ListConnectionsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListConnections", false); !a.ok()) return a;
  return Run(pool_, "ListConnections", response,
             [&](pqxx::connection_base& c) { return collector::ListConnections(c, *request); });
}

// An admin's change (Authorize with change = true), audited in admin_actions.
grpc::Status QueryService::ImportSegments(grpc::ServerContext* context, const v1::ImportSegmentsRequest* request,
                                          v1::ImportSegmentsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ImportSegments", true); !a.ok()) return a;
  grpc::Status s = Run(pool_, "ImportSegments", response, [&](pqxx::connection_base& c) {
    return collector::ImportSegments(c, *request, Who(context, verifier_));
  });
  if (s.ok()) {
    spdlog::info("segment map: {} segments imported, {} removed, by {}", response->imported(), response->removed(),
                 Who(context, verifier_));
  }
  return s;
}

// An admin's change: each document in its own transaction, audited in admin_actions.
grpc::Status QueryService::ImportAdvisories(grpc::ServerContext* context, const v1::ImportAdvisoriesRequest* request,
                                            v1::ImportAdvisoriesResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ImportAdvisories", true); !a.ok()) return a;
  const std::string who = Who(context, verifier_);
  grpc::Status s = Run(pool_, "ImportAdvisories", response,
                       [&](pqxx::connection_base& c) { return collector::ImportAdvisories(c, *request, who); });
  if (s.ok()) {
    std::map<std::string, int> outcomes;
    for (const v1::AdvisoryImportResult& r : response->results()) ++outcomes[r.outcome()];
    std::string summary;
    for (const auto& [outcome, n] : outcomes) absl::StrAppend(&summary, summary.empty() ? "" : ", ", n, " ", outcome);
    spdlog::info("advisories: {} documents ({}), by {}", response->results_size(), summary, who);
  }
  return s;
}

grpc::Status QueryService::ListAdvisories(grpc::ServerContext* context, const v1::ListAdvisoriesRequest* request,
                                          v1::ListAdvisoriesResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListAdvisories", false); !a.ok()) return a;
  return Run(pool_, "ListAdvisories", response,
             [&](pqxx::connection_base& c) { return collector::ListAdvisories(c, *request); });
}

grpc::Status QueryService::GetAdvisory(grpc::ServerContext* context, const v1::GetAdvisoryRequest* request,
                                       v1::Advisory* response) {
  if (grpc::Status a = Authorize(context, verifier_, "GetAdvisory", false); !a.ok()) return a;
  return Run(pool_, "GetAdvisory", response,
             [&](pqxx::connection_base& c) { return collector::GetAdvisory(c, *request); });
}

grpc::Status QueryService::DerivePolicy(grpc::ServerContext* context, const v1::DerivePolicyRequest* request,
                                        v1::Policy* response) {
  if (grpc::Status a = Authorize(context, verifier_, "DerivePolicy", false); !a.ok()) return a;
  return Run(pool_, "DerivePolicy", response,
             [&](pqxx::connection_base& c) { return collector::DerivePolicy(c, *request); });
}

// An admin's change, audited in admin_actions.
grpc::Status QueryService::AcceptPolicy(grpc::ServerContext* context, const v1::AcceptPolicyRequest* request,
                                        v1::Policy* response) {
  if (grpc::Status a = Authorize(context, verifier_, "AcceptPolicy", true); !a.ok()) return a;
  const std::string who = Who(context, verifier_);
  grpc::Status s = Run(pool_, "AcceptPolicy", response,
                       [&](pqxx::connection_base& c) { return collector::AcceptPolicy(c, *request, who); });
  if (s.ok()) {
    spdlog::info("policy {} accepted for {} '{}' by {}: {} devices, {} rules", response->policy_id(),
                 request->group().dimension(), Printable(request->group().value(), 64), who, response->members_size(),
                 response->rules_size());
  }
  return s;
}

grpc::Status QueryService::ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest* request,
                                        v1::ListPoliciesResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListPolicies", false); !a.ok()) return a;
  return Run(pool_, "ListPolicies", response, [&](pqxx::connection_base& c) { return collector::ListPolicies(c); });
}

grpc::Status QueryService::ListPolicyViolations(grpc::ServerContext* context,
                                                const v1::ListPolicyViolationsRequest* request,
                                                v1::ListPolicyViolationsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListPolicyViolations", false); !a.ok()) return a;
  return Run(pool_, "ListPolicyViolations", response,
             [&](pqxx::connection_base& c) { return collector::ListPolicyViolations(c, *request); });
}

grpc::Status QueryService::ListDepartmentFlows(grpc::ServerContext* context,
                                               const v1::ListDepartmentFlowsRequest* request,
                                               v1::ListDepartmentFlowsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListDepartmentFlows", false); !a.ok()) return a;
  return Run(pool_, "ListDepartmentFlows", response,
             [&](pqxx::connection_base& c) { return collector::ListDepartmentFlows(c, *request); });
}

grpc::Status QueryService::GetGraph(grpc::ServerContext* context, const v1::GetGraphRequest* request,
                                    v1::Graph* response) {
  if (grpc::Status a = Authorize(context, verifier_, "GetGraph", false); !a.ok()) return a;
  return Run(pool_, "GetGraph", response, [&](pqxx::connection_base& c) { return collector::GetGraph(c, *request, pool_); });
}

grpc::Status QueryService::ListEdges(grpc::ServerContext* context, const v1::ListEdgesRequest* request,
                                     v1::ListEdgesResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListEdges", false); !a.ok()) return a;
  return Run(pool_, "ListEdges", response, [&](pqxx::connection_base& c) { return collector::ListEdges(c, *request); });
}

grpc::Status QueryService::FindPaths(grpc::ServerContext* context, const v1::FindPathsRequest* request,
                                     v1::FindPathsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "FindPaths", false); !a.ok()) return a;
  return Run(pool_, "FindPaths", response, [&](pqxx::connection_base& c) { return collector::FindPaths(c, *request); });
}

grpc::Status QueryService::TopTalkers(grpc::ServerContext* context, const v1::TopTalkersRequest* request,
                                      v1::TopTalkersResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "TopTalkers", false); !a.ok()) return a;
  return Run(pool_, "TopTalkers", response,
             [&](pqxx::connection_base& c) { return collector::TopTalkers(c, *request); });
}

grpc::Status QueryService::Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                                 grpc::ServerWriter<v1::Event>* writer) {
  if (grpc::Status a = Authorize(context, verifier_, "Watch", false); !a.ok()) return a;
  if (events_ == nullptr) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "Watch: not served by this collector");
  if (auto s = CheckEventKinds(*request); !s.ok()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, std::string(s.message()));
  }
  if (!events_->Join()) {
    return grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                        "Watch: too many subscribers (--max_watchers); try again later");
  }
  struct Leave {
    EventHub* hub;
    ~Leave() { hub->Leave(); }
  } leave{events_};
  const std::vector<std::string> kinds(request->kinds().begin(), request->kinds().end());
  int64_t cursor = request->after_event_id();
  try {
    if (cursor <= 0) {
      ConnectionPool::Lease lease = pool_->Acquire();
      cursor = request->after_event_id() == 0 ? LastEventId(lease.get()) : 0;
    }
    // Headers now, so that the client knows it is subscribed before the first event.
    writer->SendInitialMetadata();
    for (;;) {
      if (context->IsCancelled()) return grpc::Status::CANCELLED;
      std::vector<v1::Event> batch;
      int64_t scanned = cursor;
      {
        ConnectionPool::Lease lease = pool_->Acquire();
        try {
          batch = ReadEvents(lease.get(), cursor, kinds, 500, &scanned);
        } catch (const pqxx::broken_connection&) {
          lease.MarkBroken();
          throw;
        }
      }
      for (const v1::Event& e : batch) {
        if (!writer->Write(e)) return grpc::Status::CANCELLED;  // the client went away
      }
      const bool more = scanned > cursor;
      cursor = scanned;
      if (more) continue;
      if (!events_->Wait(cursor, absl::Seconds(1))) {
        return grpc::Status(grpc::StatusCode::UNAVAILABLE,
                            "Watch: the collector is stopping; resume after the last event");
      }
    }
  } catch (const pqxx::broken_connection& e) {
    return grpc::Status(grpc::StatusCode::UNAVAILABLE, absl::StrCat("database unavailable: ", e.what()));
  } catch (const std::exception& e) {
    spdlog::error("Watch: {}", e.what());
    return grpc::Status(grpc::StatusCode::INTERNAL, "Watch: database error");
  }
}

grpc::Status QueryService::ListSensors(grpc::ServerContext* context, const v1::ListSensorsRequest* request,
                                       v1::ListSensorsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListSensors", false); !a.ok()) return a;
  return Run(pool_, "ListSensors", response,
             [&](pqxx::connection_base& c) { return collector::ListSensors(c, *request); });
}

grpc::Status QueryService::ListSegments(grpc::ServerContext* context, const v1::ListSegmentsRequest* request,
                                        v1::ListSegmentsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListSegments", false); !a.ok()) return a;
  return Run(pool_, "ListSegments", response,
             [&](pqxx::connection_base& c) { return collector::ListSegments(c, *request); });
}

grpc::Status QueryService::SetDeviceField(grpc::ServerContext* context, const v1::SetDeviceFieldRequest* request,
                                          v1::Device* response) {
  if (grpc::Status a = Authorize(context, verifier_, "SetDeviceField", true); !a.ok()) return a;
  const std::string peer = Who(context, verifier_);
  grpc::Status s = Run(pool_, "SetDeviceField", response, [&](pqxx::connection_base& c) {
    return collector::SetDeviceField(c, *request, peer, after_change_);
  });
  if (s.ok()) {
    // Logged as an admin action; the value is an analyst's, not observed traffic.
    spdlog::info("device {}: {} {} by {}", request->id(), request->field(), request->clear() ? "cleared" : "set", peer);
  }
  return s;
}

grpc::Status QueryService::RevokeSensor(grpc::ServerContext* context, const v1::RevokeSensorRequest* request,
                                        v1::RevokeSensorResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "RevokeSensor", true); !a.ok()) return a;
  const std::string who = Who(context, verifier_);
  grpc::Status s = Run(pool_, "RevokeSensor", response,
                       [&](pqxx::connection_base& c) { return collector::RevokeSensor(c, *request, who); });
  if (s.ok() && response->changed()) {
    const v1::SensorRevocation& r = response->revocation();
    spdlog::info("sensor {}{}{} {} by {}", r.sensor_id(), r.certificate_sha256().empty() ? "" : ", certificate ",
                 r.certificate_sha256(), request->unrevoke() ? "unrevoked" : "revoked", who);
  }
  return s;
}

grpc::Status QueryService::ListSensorRevocations(grpc::ServerContext* context,
                                                 const v1::ListSensorRevocationsRequest* request,
                                                 v1::ListSensorRevocationsResponse* response) {
  if (grpc::Status a = Authorize(context, verifier_, "ListSensorRevocations", false); !a.ok()) return a;
  return Run(pool_, "ListSensorRevocations", response,
             [&](pqxx::connection_base& c) { return collector::ListSensorRevocations(c, *request); });
}

grpc::Status QueryService::GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                                     v1::CollectorStatus* response) {
  if (grpc::Status a = Authorize(context, verifier_, "GetStatus", false); !a.ok()) return a;
  if (process_status_) process_status_(response);
  // The database's part: its failure is part of the answer, not a failed call (what an operator
  // asking for the status most needs to hear).
  for (int attempt = 0;; ++attempt) {
    ConnectionPool::Lease lease = pool_->Acquire();
    try {
      const InventoryCounts counts = CountInventory(lease.get());
      response->set_database_ok(true);
      response->set_schema_version(counts.schema_version);
      response->set_devices(counts.devices);
      response->set_graph_edges(counts.graph_edges);
      response->set_sensors(counts.sensors);
      response->set_sensors_down(counts.sensors_down);
      response->set_sensors_revoked(counts.sensors_revoked);
      return grpc::Status::OK;
    } catch (const pqxx::broken_connection& e) {
      lease.MarkBroken();
      if (attempt == 0) continue;
      response->set_database_error(absl::StrCat("unreachable: ", e.what()));
    } catch (const std::exception& e) {
      spdlog::error("GetStatus: {}", e.what());
      response->set_database_error(e.what());
    }
    response->set_database_ok(false);
    return grpc::Status::OK;
  }
}

}  // namespace auscult::collector
