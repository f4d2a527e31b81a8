#include "collector/cli/output_format.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace auscult::cli
