#include "collector/cli/output_format.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "absl/strings/str_replace.h"

namespace auscult::cli {
namespace {

v1::Graph Hostile() {
  v1::Graph g;
  v1::GraphNode* a = g.add_nodes();
  a->set_id("d:1");
  a->set_kind("device");
  a->set_device_id(1);
  a->set_label("pump\" -> \"x\\\n</data><x>&");
  a->set_category("medical");
  a->set_device_type("unknown");
  v1::GraphNode* b = g.add_nodes();
  b->set_id("n:203.0.113.0/24");
  b->set_kind("network");
  b->set_label("203.0.113.0/24");
  v1::GraphEdge* e = g.add_edges();
  e->set_src("d:1");
  e->set_dst("n:203.0.113.0/24");
  e->set_transport(6);
  e->set_port(2575);
  e->set_protocol("hl7");
  e->set_clinical(true);
  return g;
}

TEST(GraphFormatTest, DotEscapesLabels) {
  const std::string dot = GraphDot(Hostile());
  EXPECT_NE(dot.find("label=\"pump\\\" -> \\\"x\\\\</data><x>&"), std::string::npos) << dot;
  EXPECT_EQ(dot.find("\"x\"\n"), std::string::npos);
  EXPECT_NE(dot.find("\"d:1\" -> \"n:203.0.113.0/24\" [label=\"hl7/2575\", color=\"#d62728\""), std::string::npos)
      << dot;
  EXPECT_NE(dot.find("fillcolor=\"#e4572e\""), std::string::npos);  // medical
  // One line per node and edge, plus four of the frame: the newline in the label was dropped, and
  // the device's second line is DOT's own "\n".
  EXPECT_EQ(std::count(dot.begin(), dot.end(), '\n'), 7);
  EXPECT_NE(dot.find("</data><x>&\\nunknown"), std::string::npos) << dot;
}

TEST(GraphFormatTest, GraphMlEscapesLabels) {
  const std::string xml = GraphMl(Hostile());
  EXPECT_NE(xml.find("pump&quot; -&gt; &quot;x\\\n&lt;/data&gt;&lt;x&gt;&amp;"), std::string::npos) << xml;
  EXPECT_EQ(xml.find("<x>"), std::string::npos);
  EXPECT_NE(xml.find("source=\"d:1\" target=\"n:203.0.113.0/24\""), std::string::npos);
  EXPECT_NE(xml.find("<data key=\"clinical\">true</data>"), std::string::npos);
}

TEST(GraphFormatTest, JsonHasNodesAndEdges) {
  const std::string json = GraphJson(Hostile());
  EXPECT_NE(json.find("\"source\": \"d:1\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"device_id\": null"), std::string::npos);
  EXPECT_NE(json.find("\"truncated\": false"), std::string::npos);
  EXPECT_NE(json.find("pump\\\" -> \\\"x\\\\\\n</data><x>&"), std::string::npos) << json;
}

// What one script element of the page holds (empty when there is no such element).
std::string ScriptText(const std::string& html, const std::string& id) {
  const std::string open = "<script type=\"application/json\" id=\"" + id + "\">";
  const size_t start = html.find(open);
  if (start == std::string::npos) return "";
  const size_t end = html.find("</script>", start);
  return html.substr(start + open.size(), end - start - open.size());
}

size_t Count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A label is data from the network: whatever it holds, it must stay inside the JSON of its script
// element and come back unchanged, and the page must load nothing from anywhere.
TEST(GraphFormatTest, HtmlKeepsHostileLabelsInsideTheData) {
  v1::Graph g = Hostile();
  const std::string evil = "</script><script>alert(1)</script><!-- <SCRIPT>\"q\" 'q' & </ScRiPt >";
  g.mutable_nodes(1)->set_label(evil);
  const std::string html = GraphHtml(g);
  if (!GraphHtmlBuiltIn()) {
    EXPECT_EQ(html, "");
    GTEST_SKIP() << "configured with -DAUSCULT_GRAPH_HTML=OFF";
  }
  std::string lower = html;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  // The page's own four script elements, each closed where the page closes it.
  EXPECT_EQ(Count(lower, "<script"), 4u);
  EXPECT_EQ(Count(lower, "</script"), 4u);
  EXPECT_EQ(Count(html, "alert(1)"), 1u);

  const std::string data = ScriptText(html, "graph-data");
  EXPECT_EQ(data.find('<'), std::string::npos) << data;
  EXPECT_NE(data.find("\\u003c/script>\\u003cscript>alert(1)"), std::string::npos) << data;
  // The data are GraphJson's, and a JSON parser gets the label back byte for byte.
  EXPECT_EQ(absl::StrReplaceAll(data, {{"\\u003c", "<"}}), GraphJson(g));
  google::protobuf::Value parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(data, &parsed).ok()) << data;
  EXPECT_EQ(parsed.struct_value()
                .fields()
                .at("nodes")
                .list_value()
                .values(1)
                .struct_value()
                .fields()
                .at("label")
                .string_value(),
            evil);
  // The colours of the DOT output.
  const std::string style = ScriptText(html, "graph-style");
  EXPECT_NE(style.find("[\"medical\",\"#e4572e\"]"), std::string::npos) << style;
  EXPECT_NE(style.find("\"clinical\":\"#d62728\""), std::string::npos) << style;

  // Self-contained: no script, style sheet, font or image comes from elsewhere, and the page's
  // policy forbids it anyway. Its only addresses are XML namespaces and d3's home in d3's headers.
  EXPECT_NE(html.find("default-src 'none'"), std::string::npos);
  for (const char* fetch : {"src=", "href=", "<link", "@import", "<iframe", "<img", "<object", "<embed", "fetch(",
                            "xmlhttprequest", "import(", "websocket", "eventsource", "sendbeacon"}) {
    EXPECT_EQ(lower.find(fetch), std::string::npos) << fetch;
  }
  EXPECT_EQ(Count(lower, "url("), Count(lower, "url(#")) << "only references within the page";
  for (const char* scheme : {"http://", "https://"}) {
    for (size_t at = lower.find(scheme); at != std::string::npos; at = lower.find(scheme, at + 1)) {
      const std::string address = lower.substr(at, 24);
      EXPECT_TRUE(address.rfind("http://www.w3.org/", 0) == 0 || address.rfind("https://d3js.org/", 0) == 0) << address;
    }
  }
}

}  // namespace
}  // namespace auscult::cli
