#ifndef AUSCULT_COLLECTOR_STORE_GRAPH_H_
#define AUSCULT_COLLECTOR_STORE_GRAPH_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auscult/v1/query.pb.h"

namespace pqxx {
class connection_base;
class transaction_base;
}  // namespace pqxx

namespace auscult::collector {

class ConnectionPool;

inline constexpr int kDefaultGraphNodes = 500;
inline constexpr int kMaxGraphNodes = 5000;
inline constexpr uint32_t kMaxGraphHops = 4;
inline constexpr int kDefaultEdgeList = 1000;
inline constexpr int kMaxEdgeList = 10000;
inline constexpr uint32_t kMaxPathHops = 6;
inline constexpr uint32_t kMaxPaths = 50;
inline constexpr int kMaxTalkers = 1000;

// The communication graph from graph_edges (nodes as auscult_graph_nodes shows them, edges per
// source node, destination node, transport, port and application): all of it, the neighbourhood of a
// device up to `hops`, or a department's devices with their peers. Cut at max_nodes (truncated).
// With `pool`, a neighbourhood's nodes are described on a second connection from it while `c` reads
// their edges, when one is free at that moment (in the same snapshot: the answer is the same).
absl::StatusOr<v1::Graph> GetGraph(pqxx::connection_base& c, const v1::GetGraphRequest& request,
                                   ConnectionPool* pool = nullptr);

// Flows between departments: each edge's ends (auscult_graph_nodes) give their departments.
absl::StatusOr<v1::ListDepartmentFlowsResponse> ListDepartmentFlows(pqxx::connection_base& c,
                                                                    const v1::ListDepartmentFlowsRequest& request);

// The nodes named (d:<id>, n:<network>, a:<address>), in the order given, with what a drawing or
// a listing needs (a device's label, type, category, department, risk, own addresses).
std::vector<v1::GraphNode> LoadNodes(pqxx::transaction_base& t, const std::vector<std::string>& nodes);

// Edges by service, device, exposure or novelty (after the baseline), most bytes first.
absl::StatusOr<v1::ListEdgesResponse> ListEdges(pqxx::connection_base& c, const v1::ListEdgesRequest& request);

// Simple paths from one device to another over the graph's edges, fewest hops first; bounded in
// hops, paths and search steps (truncated when the bound cut the search).
absl::StatusOr<v1::FindPathsResponse> FindPaths(pqxx::connection_base& c, const v1::FindPathsRequest& request);

// The nodes with the most bytes, flows or peers over the flows of a time window.
absl::StatusOr<v1::TopTalkersResponse> TopTalkers(pqxx::connection_base& c, const v1::TopTalkersRequest& request);

}  // namespace auscult::collector

#endif  // AUSCULT_COLLECTOR_STORE_GRAPH_H_
