#ifndef AUSCULT_COLLECTOR_CLI_GRAPH_COMMANDS_H_
#define AUSCULT_COLLECTOR_CLI_GRAPH_COMMANDS_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "auscult/v1/query.grpc.pb.h"

namespace auscult::cli {

// The CLI's questions about the communication graph beyond `graph` itself: who uses a service,
// what reaches outside, what is new since the baseline, who talks most, how one device reaches
// another, and the stream of changes.
struct QueryContext {
  v1::Query::Stub* stub;
  std::string target;      // for messages
  absl::Duration timeout;  // of each unary call
};

// Gives a unary call the deadline of --timeout.
void SetDeadline(grpc::ClientContext& ctx, const QueryContext& q);

// Prints the failure and returns the exit status: 2 for INVALID_ARGUMENT (bad usage), else 1.
int FailCall(const grpc::Status& s, const std::string& target);

// "24h", "90m", "7d" (before now) or an RFC 3339 time.
absl::StatusOr<absl::Time> ParseSince(const std::string& text, absl::Time now);

int ServiceUsers(const QueryContext& q);  // auscult services --port=N | --protocol=P
int Exposure(const QueryContext& q);      // auscult exposure
int NewEdges(const QueryContext& q);      // auscult new-edges [--since=...]
int TopTalkers(const QueryContext& q);    // auscult top [--since=...] [--by=...]
int Paths(const QueryContext& q, const std::string& from, const std::string& to);  // auscult paths A B
int Watch(const QueryContext& q);  // auscult watch [--after=ID] [--kinds=...] [--count=N]

// Segmentation policy (collector/cli/policy_commands.cc).
int DerivePolicy(const QueryContext& q);      // auscult policy derive --type=T|--vendor=V|... [--format=...]
int AcceptPolicy(const QueryContext& q);      // auscult policy accept --type=T|...
int ListPolicies(const QueryContext& q);      // auscult policy list
int PolicyViolations(const QueryContext& q);  // auscult policy violations [--policy=ID]

}  // namespace auscult::cli

#endif  // AUSCULT_COLLECTOR_CLI_GRAPH_COMMANDS_H_
