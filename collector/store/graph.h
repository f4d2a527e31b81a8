#ifndef AUSCULT_COLLECTOR_STORE_GRAPH_H_
#define AUSCULT_COLLECTOR_STORE_GRAPH_H_

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace pqxx {
class connection_base;
}

namespace auscult::collector {

inline constexpr int kDefaultGraphNodes = 500;
inline constexpr int kMaxGraphNodes = 5000;
inline constexpr uint32_t kMaxGraphHops = 4;

// The communication graph from the flows (nodes as auscult_node_of names them, edges per source
// node, destination node, transport, port and application): all of it, the neighbourhood of a
// device up to `hops`, or a department's devices with their peers. Cut at max_nodes (truncated).
absl::StatusOr<v1::Graph> GetGraph(pqxx::connection_base& c, const v1::GetGraphRequest& request);

// Flows between departments: each end's node (auscult_node_of) gives its department.
absl::StatusOr<v1::ListDepartmentFlowsResponse> ListDepartmentFlows(pqxx::connection_base& c,
                                                                    const v1::ListDepartmentFlowsRequest& request);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_GRAPH_H_
