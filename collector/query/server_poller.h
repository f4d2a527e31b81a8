#ifndef AUSCULT_COLLECTOR_QUERY_SERVER_POLLER_H_
#define AUSCULT_COLLECTOR_QUERY_SERVER_POLLER_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <thread>

namespace auscult::collector {

// A thread that keeps reading the server's connections while gRPC's own readers sleep.
//
// A gRPC server (1.51) that has callback services (the ingest's streams) as well as synchronous
// ones (the query API) does not let the synchronous handlers' threads read the network: the reading
// is left to the threads that poll the callback queue, two "nexting" threads that each sleep 100 ms
// after a second without a callback event. While queries arrive and no sensor streams, both fall
// asleep together about once a second, and a query that arrives then waits for them: 90-100 ms,
// about one request a second (docs/performance.md, "Queries at hospital scale"). This thread waits
// on a completion queue of the server that never receives work, which makes it one of gRPC's
// pollers for as long as the server runs, so that someone is always reading.
class ServerPoller {
 public:
  // Before builder.BuildAndStart().
  explicit ServerPoller(grpc::ServerBuilder& builder) : queue_(builder.AddCompletionQueue(true)) {}
  ~ServerPoller() { Stop(); }
  ServerPoller(const ServerPoller&) = delete;
  ServerPoller& operator=(const ServerPoller&) = delete;

  // After the server started.
  void Start();
  // After the server was shut down (gRPC requires its queues to be shut down after it).
  void Stop();

 private:
  std::unique_ptr<grpc::ServerCompletionQueue> queue_;
  std::thread thread_;
  bool stopped_ = false;
};

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_QUERY_SERVER_POLLER_H_
