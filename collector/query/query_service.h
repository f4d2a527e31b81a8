#ifndef AUSCULT_COLLECTOR_QUERY_QUERY_SERVICE_H_
#define AUSCULT_COLLECTOR_QUERY_QUERY_SERVICE_H_

#include <functional>

#include "auscult/v1/query.grpc.pb.h"
#include "collector/query/event_hub.h"
#include "collector/store/database.h"
#include "collector/store/queries.h"
#include "common/tls.h"

namespace auscult::collector {

// The gRPC query service: each call borrows a pool connection and runs one read-only transaction.
// Errors are gRPC status codes with a message naming the field (INVALID_ARGUMENT), the missing
// thing (NOT_FOUND) or the database problem (UNAVAILABLE).
class QueryService final : public v1::Query::Service {
 public:
  // `after_change` runs after an analyst changed a device (see collector::SetDeviceField).
  // `events` serves Watch (none: Watch is UNAVAILABLE). `verifier` checks certificates a proxy
  // forwards (null without TLS).
  explicit QueryService(ConnectionPool* pool, AfterChange after_change = nullptr, EventHub* events = nullptr,
                        const CertificateVerifier* verifier = nullptr)
      : pool_(pool), after_change_(std::move(after_change)), events_(events), verifier_(verifier) {}

  grpc::Status ListDevices(grpc::ServerContext* context, const v1::ListDevicesRequest* request,
                           v1::ListDevicesResponse* response) override;
  grpc::Status GetDevice(grpc::ServerContext* context, const v1::GetDeviceRequest* request,
                         v1::Device* response) override;
  grpc::Status ListConnections(grpc::ServerContext* context, const v1::ListConnectionsRequest* request,
                               v1::ListConnectionsResponse* response) override;
  grpc::Status ImportSegments(grpc::ServerContext* context, const v1::ImportSegmentsRequest* request,
                              v1::ImportSegmentsResponse* response) override;
  grpc::Status ListSegments(grpc::ServerContext* context, const v1::ListSegmentsRequest* request,
                            v1::ListSegmentsResponse* response) override;
  grpc::Status ListDepartmentFlows(grpc::ServerContext* context, const v1::ListDepartmentFlowsRequest* request,
                                   v1::ListDepartmentFlowsResponse* response) override;
  grpc::Status GetGraph(grpc::ServerContext* context, const v1::GetGraphRequest* request, v1::Graph* response) override;
  grpc::Status ListSensors(grpc::ServerContext* context, const v1::ListSensorsRequest* request,
                           v1::ListSensorsResponse* response) override;
  grpc::Status ListEdges(grpc::ServerContext* context, const v1::ListEdgesRequest* request,
                         v1::ListEdgesResponse* response) override;
  grpc::Status FindPaths(grpc::ServerContext* context, const v1::FindPathsRequest* request,
                         v1::FindPathsResponse* response) override;
  grpc::Status TopTalkers(grpc::ServerContext* context, const v1::TopTalkersRequest* request,
                          v1::TopTalkersResponse* response) override;
  // Streams events until the client cancels or the server stops. A subscriber that falls behind
  // reads from the table (nothing is dropped while events are kept); one per thread of the server.
  grpc::Status Watch(grpc::ServerContext* context, const v1::WatchRequest* request,
                     grpc::ServerWriter<v1::Event>* writer) override;
  grpc::Status SetDeviceField(grpc::ServerContext* context, const v1::SetDeviceFieldRequest* request,
                              v1::Device* response) override;
  grpc::Status RevokeSensor(grpc::ServerContext* context, const v1::RevokeSensorRequest* request,
                            v1::RevokeSensorResponse* response) override;
  grpc::Status ListSensorRevocations(grpc::ServerContext* context, const v1::ListSensorRevocationsRequest* request,
                                     v1::ListSensorRevocationsResponse* response) override;
  grpc::Status ImportAdvisories(grpc::ServerContext* context, const v1::ImportAdvisoriesRequest* request,
                                v1::ImportAdvisoriesResponse* response) override;
  grpc::Status ListAdvisories(grpc::ServerContext* context, const v1::ListAdvisoriesRequest* request,
                              v1::ListAdvisoriesResponse* response) override;
  grpc::Status GetAdvisory(grpc::ServerContext* context, const v1::GetAdvisoryRequest* request,
                           v1::Advisory* response) override;
  grpc::Status DerivePolicy(grpc::ServerContext* context, const v1::DerivePolicyRequest* request,
                            v1::Policy* response) override;
  grpc::Status AcceptPolicy(grpc::ServerContext* context, const v1::AcceptPolicyRequest* request,
                            v1::Policy* response) override;
  grpc::Status ListPolicies(grpc::ServerContext* context, const v1::ListPoliciesRequest* request,
                            v1::ListPoliciesResponse* response) override;
  grpc::Status ListPolicyViolations(grpc::ServerContext* context, const v1::ListPolicyViolationsRequest* request,
                                    v1::ListPolicyViolationsResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const v1::GetStatusRequest* request,
                         v1::CollectorStatus* response) override;

  // What GetStatus says of this process (version, streams, batches): set before the server starts.
  void set_process_status(std::function<void(v1::CollectorStatus*)> fill) { process_status_ = std::move(fill); }

 private:
  ConnectionPool* pool_;
  const AfterChange after_change_;
  EventHub* const events_;
  const CertificateVerifier* const verifier_;
  std::function<void(v1::CollectorStatus*)> process_status_;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_QUERY_QUERY_SERVICE_H_
