#ifndef AUSCULT_COLLECTOR_CLI_OUTPUT_FORMAT_H_
#define AUSCULT_COLLECTOR_CLI_OUTPUT_FORMAT_H_

#include <string>

#include "absl/time/time.h"
#include "auscult/v1/query.pb.h"
#include "common/ip_address.h"
#include "common/json_writer.h"

namespace auscult::cli {

// The CLI's output formats: `auscult graph` as JSON, DOT, GraphML and HTML, and shared pieces.
// `auscult graph` outputs. Labels come from the network (hostnames, vendors): every format escapes
// them, so no label can break out of its string or element.
// {"nodes": [...], "edges": [...], "truncated": bool}, with the fields of GraphNode and GraphEdge.
std::string GraphJson(const v1::Graph& graph);
// One edge of it as a JSON object (also the hops of `auscult paths --json`).
void GraphEdgeJson(JsonWriter& j, const v1::GraphEdge& edge);
// Graphviz: devices coloured by category, clinical edges red and bold, dashed when encrypted.
std::string GraphDot(const v1::Graph& graph);
// GraphML with the same attributes as data keys (yEd, Gephi, NetworkX read it).
std::string GraphMl(const v1::Graph& graph);
// One HTML page that draws the graph in a browser, offline: d3 and the data (GraphJson's) are in the
// page, devices coloured as in DOT, clinical edges red, a legend and a tooltip on every node and
// edge. Empty when the CLI was configured with -DAUSCULT_GRAPH_HTML=OFF (GraphHtmlBuiltIn() false).
std::string GraphHtml(const v1::Graph& graph);
bool GraphHtmlBuiltIn();

// Shared by the CLI's outputs: a time in RFC 3339 (UTC). (An IP protocol number's name is
// TransportName, common/ip_address.h.)
absl::Time ToTime(const google::protobuf::Timestamp& t);
std::string Rfc3339(const google::protobuf::Timestamp& t);

// The fill colour of a node of this category ("" and unknown categories grey).
std::string CategoryColour(const std::string& category);

}  // namespace auscult::cli

#endif  // AUSCULT_COLLECTOR_CLI_OUTPUT_FORMAT_H_
