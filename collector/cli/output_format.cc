#include "collector/cli/output_format.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/time/time.h"
#include "common/json_writer.h"

namespace auscult::cli {

#if AUSCULT_GRAPH_HTML
// The page with d3 in it, from collector/cli/graph_template.html (cmake/VendorD3.cmake).
extern const char kGraphPage[];
extern const std::size_t kGraphPageSize;
#endif

namespace {

// One table for DOT's fill colours and the HTML page's drawing and legend.
constexpr std::pair<const char*, const char*> kCategoryColours[] = {{"medical", "#e4572e"},
                                                                    {"clinical-it", "#f3a712"},
                                                                    {"it", "#4c86c6"},
                                                                    {"iot-building", "#8e6bbf"},
                                                                    {"network", "#2e9c6a"}};
constexpr char kOtherColour[] = "#a0a0a0";
constexpr char kClinicalEdgeColour[] = "#d62728";

// Inside a DOT double-quoted string: quotes and backslashes escaped, control characters dropped
// (labels stay on their line; DOT's own line break is the two characters \n, added by the caller).
std::string DotEscaped(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out.push_back(c);
  }
  return out;
}
std::string DotString(const std::string& s) { return absl::StrCat("\"", DotEscaped(s), "\""); }

std::string Xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 allows no control characters but tab, newline and carriage return.
        if (static_cast<unsigned char>(c) >= 0x20 || c == '\t' || c == '\n' || c == '\r') out.push_back(c);
    }
  }
  return out;
}

std::string EdgeLabel(const v1::GraphEdge& e) {
  return absl::StrCat(e.protocol().empty() ? TransportName(e.transport()) : e.protocol(), "/", e.port());
}

}  // namespace

absl::Time ToTime(const google::protobuf::Timestamp& t) {
  return absl::FromUnixSeconds(t.seconds()) + absl::Nanoseconds(t.nanos());
}

std::string Rfc3339(const google::protobuf::Timestamp& t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E*SZ", ToTime(t), absl::UTCTimeZone());
}

std::string CategoryColour(const std::string& category) {
  for (const auto& [name, colour] : kCategoryColours) {
    if (category == name) return colour;
  }
  return kOtherColour;
}

void GraphEdgeJson(JsonWriter& j, const v1::GraphEdge& e) {
  j.BeginObject();
  j.Key("source").String(e.src());
  j.Key("target").String(e.dst());
  j.Key("transport").String(TransportName(e.transport()));
  j.Key("port").UInt(e.port());
  j.Key("protocol").String(e.protocol());
  j.Key("bytes_to_dst").UInt(e.bytes_to_dst());
  j.Key("bytes_to_src").UInt(e.bytes_to_src());
  j.Key("packets").UInt(e.packets());
  j.Key("flows").UInt(e.flows());
  j.Key("first_seen").String(Rfc3339(e.first_seen()));
  j.Key("last_seen").String(Rfc3339(e.last_seen()));
  j.Key("clinical").Bool(e.clinical());
  j.Key("phi").Bool(e.phi());
  j.Key("encrypted").Bool(e.encrypted());
  j.Key("cleartext_credentials").Bool(e.cleartext_credentials());
  j.Key("external").Bool(e.external());
  j.Key("sensors").BeginArray();
  for (const std::string& s : e.sensors()) j.String(s);
  j.EndArray();
  j.EndObject();
}

std::string GraphJson(const v1::Graph& g) {
  JsonWriter j(/*pretty=*/true);
  j.BeginObject();
  j.Key("nodes").BeginArray();
  for (const v1::GraphNode& n : g.nodes()) {
    j.BeginObject();
    j.Key("id").String(n.id());
    j.Key("kind").String(n.kind());
    if (n.device_id() > 0) {
      j.Key("device_id").Int(n.device_id());
    } else {
      j.Key("device_id").Null();
    }
    j.Key("label").String(n.label());
    j.Key("device_type").String(n.device_type());
    j.Key("category").String(n.category());
    j.Key("department").String(n.department());
    j.Key("risk_score").Int(n.risk_score());
    j.Key("external").Bool(n.external());
    j.Key("ips").BeginArray();
    for (const std::string& ip : n.ips()) j.String(ip);
    j.EndArray();
    j.EndObject();
  }
  j.EndArray();
  j.Key("edges").BeginArray();
  for (const v1::GraphEdge& e : g.edges()) GraphEdgeJson(j, e);
  j.EndArray();
  j.Key("truncated").Bool(g.truncated());
  j.EndObject();
  return j.str();
}

std::string GraphDot(const v1::Graph& g) {
  std::string out = "digraph auscult {\n  graph [overlap=false, splines=true];\n  node [shape=box, style=filled];\n";
  for (const v1::GraphNode& n : g.nodes()) {
    // A device: its label, then (on a second line) its type and risk.
    const std::string label =
        n.kind() == "device"
            ? absl::StrCat("\"", DotEscaped(n.label()), "\\n", DotEscaped(n.device_type()),
                           n.risk_score() > 0 ? absl::StrCat(" (risk ", n.risk_score(), ")") : "", "\"")
            : DotString(n.label());
    absl::StrAppend(&out, "  ", DotString(n.id()), " [label=", label,
                    ", fillcolor=", DotString(n.kind() == "device" ? CategoryColour(n.category()) : "#ffffff"),
                    n.kind() == "device" ? "" : ", shape=ellipse", "];\n");
  }
  for (const v1::GraphEdge& e : g.edges()) {
    absl::StrAppend(&out, "  ", DotString(e.src()), " -> ", DotString(e.dst()), " [label=", DotString(EdgeLabel(e)),
                    e.clinical() ? absl::StrCat(", color=\"", kClinicalEdgeColour, "\", penwidth=2.5") : "",
                    e.encrypted() ? ", style=dashed" : "", "];\n");
  }
  return out + "}\n";
}

bool GraphHtmlBuiltIn() { return AUSCULT_GRAPH_HTML; }

std::string GraphHtml(const v1::Graph& g) {
#if AUSCULT_GRAPH_HTML
  // The colours travel with the data, so that the page cannot disagree with the DOT output.
  JsonWriter style;
  style.BeginObject();
  style.Key("categories").BeginArray();
  for (const auto& [name, colour] : kCategoryColours) style.BeginArray().String(name).String(colour).EndArray();
  style.EndArray();
  style.Key("other").String(kOtherColour);
  style.Key("outside").String("#ffffff");  // as DOT fills the nodes that are not devices
  style.Key("clinical").String(kClinicalEdgeColour);
  style.Key("edge").String("#9a9a9a");
  style.EndObject();
  // Inside <script>, "</script" would end the element whatever the JSON says, and "<!--" changes
  // where it ends: with every "<" written as the JSON escape \u003c neither can occur, and the data
  // parse to the same labels.
  auto script_safe = [](const std::string& json) { return absl::StrReplaceAll(json, {{"<", "\\u003c"}}); };
  const std::string data = script_safe(GraphJson(g)), colours = script_safe(style.str());
  return absl::StrReplaceAll(absl::string_view(kGraphPage, kGraphPageSize),
                             {{"@AUSCULT_GRAPH_JSON@", data}, {"@AUSCULT_GRAPH_STYLE@", colours}});
#else
  (void)g;
  return "";
#endif
}

std::string GraphMl(const v1::Graph& g) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n"
      "  <key id=\"label\" for=\"node\" attr.name=\"label\" attr.type=\"string\"/>\n"
      "  <key id=\"kind\" for=\"node\" attr.name=\"kind\" attr.type=\"string\"/>\n"
      "  <key id=\"device_type\" for=\"node\" attr.name=\"device_type\" attr.type=\"string\"/>\n"
      "  <key id=\"category\" for=\"node\" attr.name=\"category\" attr.type=\"string\"/>\n"
      "  <key id=\"department\" for=\"node\" attr.name=\"department\" attr.type=\"string\"/>\n"
      "  <key id=\"risk_score\" for=\"node\" attr.name=\"risk_score\" attr.type=\"int\"/>\n"
      "  <key id=\"protocol\" for=\"edge\" attr.name=\"protocol\" attr.type=\"string\"/>\n"
      "  <key id=\"port\" for=\"edge\" attr.name=\"port\" attr.type=\"int\"/>\n"
      "  <key id=\"bytes\" for=\"edge\" attr.name=\"bytes\" attr.type=\"long\"/>\n"
      "  <key id=\"flows\" for=\"edge\" attr.name=\"flows\" attr.type=\"long\"/>\n"
      "  <key id=\"clinical\" for=\"edge\" attr.name=\"clinical\" attr.type=\"boolean\"/>\n"
      "  <key id=\"phi\" for=\"edge\" attr.name=\"phi\" attr.type=\"boolean\"/>\n"
      "  <key id=\"encrypted\" for=\"edge\" attr.name=\"encrypted\" attr.type=\"boolean\"/>\n"
      "  <key id=\"external\" for=\"edge\" attr.name=\"external\" attr.type=\"boolean\"/>\n"
      "  <graph id=\"auscult\" edgedefault=\"directed\">\n";
  auto b = [](bool v) { return v ? "true" : "false"; };
  for (const v1::GraphNode& n : g.nodes()) {
    absl::StrAppend(&out, "    <node id=\"", Xml(n.id()), "\"><data key=\"label\">", Xml(n.label()),
                    "</data><data key=\"kind\">", Xml(n.kind()), "</data><data key=\"device_type\">",
                    Xml(n.device_type()), "</data><data key=\"category\">", Xml(n.category()),
                    "</data><data key=\"department\">", Xml(n.department()), "</data><data key=\"risk_score\">",
                    n.risk_score(), "</data></node>\n");
  }
  int i = 0;
  for (const v1::GraphEdge& e : g.edges()) {
    absl::StrAppend(&out, "    <edge id=\"e", i++, "\" source=\"", Xml(e.src()), "\" target=\"", Xml(e.dst()),
                    "\"><data key=\"protocol\">", Xml(e.protocol()), "</data><data key=\"port\">", e.port(),
                    "</data><data key=\"bytes\">", e.bytes_to_dst() + e.bytes_to_src(), "</data><data key=\"flows\">",
                    e.flows(), "</data><data key=\"clinical\">", b(e.clinical()), "</data><data key=\"phi\">",
                    b(e.phi()), "</data><data key=\"encrypted\">", b(e.encrypted()), "</data><data key=\"external\">",
                    b(e.external()), "</data></edge>\n");
  }
  return out + "  </graph>\n</graphml>\n";
}

}  // namespace auscult::cli
