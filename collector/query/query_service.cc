#include "collector/query/query_service.h"

#include "collector/store/graph.h"

#include <pqxx/pqxx>

#include "absl/strings/str_cat.h"
#include "collector/store/queries.h"
#include "collector/store/segments.h"
#include "common/logging.h"
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

}  // namespace

grpc::Status QueryService::ListDevices(grpc::ServerContext*, const v1::ListDevicesRequest* request,
                                       v1::ListDevicesResponse* response) {
  return Run(pool_, "ListDevices", response,
             [&](pqxx::connection_base& c) { return collector::ListDevices(c, *request); });
}

grpc::Status QueryService::GetDevice(grpc::ServerContext*, const v1::GetDeviceRequest* request, v1::Device* response) {
  return Run(pool_, "GetDevice", response, [&](pqxx::connection_base& c) { return collector::GetDevice(c, *request); });
}

grpc::Status QueryService::ListConnections(grpc::ServerContext*, const v1::ListConnectionsRequest* request,
                                           v1::ListConnectionsResponse* response) {
  return Run(pool_, "ListConnections", response,
             [&](pqxx::connection_base& c) { return collector::ListConnections(c, *request); });
}

// Until roles arrive with authentication (issue 8), anyone who may query may import the segment map.
grpc::Status QueryService::ImportSegments(grpc::ServerContext*, const v1::ImportSegmentsRequest* request,
                                          v1::ImportSegmentsResponse* response) {
  grpc::Status s = Run(pool_, "ImportSegments", response,
                       [&](pqxx::connection_base& c) { return collector::ImportSegments(c, *request); });
  if (s.ok()) {
    spdlog::info("segment map: {} segments imported, {} removed", response->imported(), response->removed());
  }
  return s;
}

grpc::Status QueryService::ListDepartmentFlows(grpc::ServerContext*, const v1::ListDepartmentFlowsRequest* request,
                                               v1::ListDepartmentFlowsResponse* response) {
  return Run(pool_, "ListDepartmentFlows", response,
             [&](pqxx::connection_base& c) { return collector::ListDepartmentFlows(c, *request); });
}

grpc::Status QueryService::GetGraph(grpc::ServerContext*, const v1::GetGraphRequest* request, v1::Graph* response) {
  return Run(pool_, "GetGraph", response, [&](pqxx::connection_base& c) { return collector::GetGraph(c, *request); });
}

grpc::Status QueryService::ListSensors(grpc::ServerContext*, const v1::ListSensorsRequest* request,
                                       v1::ListSensorsResponse* response) {
  return Run(pool_, "ListSensors", response,
             [&](pqxx::connection_base& c) { return collector::ListSensors(c, *request); });
}

grpc::Status QueryService::ListSegments(grpc::ServerContext*, const v1::ListSegmentsRequest* request,
                                        v1::ListSegmentsResponse* response) {
  return Run(pool_, "ListSegments", response,
             [&](pqxx::connection_base& c) { return collector::ListSegments(c, *request); });
}

grpc::Status QueryService::SetDeviceField(grpc::ServerContext* context, const v1::SetDeviceFieldRequest* request,
                                          v1::Device* response) {
  const std::string peer = context->peer();
  grpc::Status s = Run(pool_, "SetDeviceField", response, [&](pqxx::connection_base& c) {
    return collector::SetDeviceField(c, *request, peer, after_change_);
  });
  if (s.ok()) {
    // Logged as an admin action; the value is an analyst's, not observed traffic.
    spdlog::info("device {}: {} {} by {}", request->id(), request->field(), request->clear() ? "cleared" : "set", peer);
  }
  return s;
}

}  // namespace auscult::collector
