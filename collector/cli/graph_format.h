#ifndef AUSCULT_COLLECTOR_CLI_GRAPH_FORMAT_H_
#define AUSCULT_COLLECTOR_CLI_GRAPH_FORMAT_H_

#include <string>

#include "auscult/v1/query.pb.h"

namespace auscult::cli {

// `auscult graph` outputs. Labels come from the network (hostnames, vendors): every format escapes
// them, so no label can break out of its string or element.
// {"nodes": [...], "edges": [...], "truncated": bool}, with the fields of GraphNode and GraphEdge.
std::string GraphJson(const v1::Graph& graph);
// Graphviz: devices coloured by category, clinical edges red and bold, dashed when encrypted.
std::string GraphDot(const v1::Graph& graph);
// GraphML with the same attributes as data keys (yEd, Gephi, NetworkX read it).
std::string GraphMl(const v1::Graph& graph);

// The fill colour of a node of this category ("" and unknown categories grey).
std::string CategoryColour(const std::string& category);

}  // namespace auscult::cli

#endif  // AUSCULT_COLLECTOR_CLI_GRAPH_FORMAT_H_
