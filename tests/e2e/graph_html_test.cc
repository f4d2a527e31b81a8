// `auscult graph --format=html` opened in a real browser (chromium-headless-shell, installed by
// deploy/install-deps.sh --test): every node and edge of the graph is drawn, and the screenshot shows
// the category colours and the red clinical edges. When the HTML page is built in, a missing browser
// fails these tests rather than skipping them, so that CI cannot pass without looking.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "collector/cli/output_format.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {
namespace fs = std::filesystem;

constexpr char kChromium[] = "chromium-headless-shell";

std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "", ':', absl::SkipEmpty())) {
    const fs::path p = fs::path(std::string(dir)) / name;
    if (access(p.c_str(), X_OK) == 0) return p.string();
  }
  return "";
}

// A folder of its own for each test, removed afterwards.
class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "auscult-html-XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    if (!path_.empty()) fs::remove_all(path_);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs the browser on a page with a profile of its own (a root user's or a second run's would
// collide), under timeout(1), which kills the browser's whole process group, so that a hung
// renderer cannot hang the suite. --no-sandbox: the tests run as root.
CommandResult Chromium(const std::string& page, const std::vector<std::string>& what, const std::string& work) {
  const std::string browser = FindOnPath(kChromium);
  if (browser.empty()) {
    ADD_FAILURE() << kChromium << " is not installed: deploy/install-deps.sh --test installs it";
    return {};
  }
  const std::string profile = work + "/profile-" + std::to_string(absl::ToUnixNanos(absl::Now()));
  std::vector<std::string> argv = {"timeout",
                                   "--kill-after=5",
                                   "60",
                                   browser,
                                   "--headless",
                                   "--no-sandbox",
                                   "--disable-gpu",
                                   "--no-first-run",
                                   "--user-data-dir=" + profile,
                                   "--hide-scrollbars",
                                   "--virtual-time-budget=5000"};
  argv.insert(argv.end(), what.begin(), what.end());
  argv.push_back("file://" + page);
  const absl::Time start = absl::Now();
  CommandResult r = RunCommand(argv, absl::Seconds(90));
  std::cout << "chromium " << what.front() << ": " << absl::FormatDuration(absl::Now() - start) << "\n";
  EXPECT_EQ(r.exit_code, 0) << "chromium failed or timed out:\n" << r.err;
  fs::remove_all(profile);
  return r;
}

// The drawing as the browser left it: the <svg> element of the dumped DOM, so that the page's own
// script and data (which name the same ids) are not counted.
struct Drawing {
  std::string status;                // the page's data-render-status: done, or error
  std::multiset<std::string> nodes;  // data-node-id of each drawn node
  size_t edges = 0;
  size_t clinical_edges = 0;
  std::string svg;
};

Drawing DrawnGraph(const std::string& page, const std::string& work) {
  Drawing d;
  const std::string dom = Chromium(page, {"--dump-dom"}, work).out;
  std::smatch m;
  if (std::regex_search(dom, m, std::regex("<body data-render-status=\"([a-z]+)\""))) d.status = m[1];
  const size_t start = dom.find("<svg id=\"graph\"");
  const size_t end = dom.find("</svg>", start);
  if (start == std::string::npos || end == std::string::npos) {
    ADD_FAILURE() << "no <svg id=\"graph\"> in the DOM:\n" << dom.substr(0, 2000);
    return d;
  }
  d.svg = dom.substr(start, end - start);
  // Attribute values come out with '"' as &quot;, so an id cannot end early; text content is
  // serialized with '<' as &lt;, so a label cannot pass for an element.
  const std::regex node("<g class=\"node [^\"]*\" data-node-id=\"([^\"]*)\"");
  for (auto it = std::sregex_iterator(d.svg.begin(), d.svg.end(), node); it != std::sregex_iterator(); ++it) {
    d.nodes.insert((*it)[1]);
  }
  const std::regex edge("<line class=\"edge( clinical)?[^\"]*\" data-edge-source=\"[^\"]*\" data-edge-target=");
  for (auto it = std::sregex_iterator(d.svg.begin(), d.svg.end(), edge); it != std::sregex_iterator(); ++it) {
    ++d.edges;
    if ((*it)[1].matched) ++d.clinical_edges;
  }
  return d;
}

// ---- the screenshot ----
struct Image {
  uint32_t width = 0, height = 0;
  std::vector<uint32_t> pixels;  // 0xRRGGBB
};

uint32_t Be32(const std::string& s, size_t at) {
  return static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8 |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// Just what Chromium writes: 8-bit RGB or RGBA, not interlaced (PNG spec, ISO/IEC 15948).
Image DecodePng(const std::string& png) {
  Image img;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) {
    ADD_FAILURE() << "not a PNG (" << png.size() << " bytes)";
    return img;
  }
  std::string idat;
  int bit_depth = 0, colour_type = 0, interlace = 0;
  for (size_t at = 8; at + 8 <= png.size();) {
    const uint32_t length = Be32(png, at);
    const std::string type = png.substr(at + 4, 4);
    if (at + 12 + length > png.size()) break;
    if (type == "IHDR") {
      img.width = Be32(png, at + 8);
      img.height = Be32(png, at + 12);
      bit_depth = static_cast<unsigned char>(png[at + 16]);
      colour_type = static_cast<unsigned char>(png[at + 17]);
      interlace = static_cast<unsigned char>(png[at + 20]);
    } else if (type == "IDAT") {
      idat += png.substr(at + 8, length);
    }
    at += 12 + length;
  }
  if (bit_depth != 8 || (colour_type != 2 && colour_type != 6) || interlace != 0 || img.width == 0) {
    ADD_FAILURE() << "unexpected PNG: depth " << bit_depth << ", colour type " << colour_type << ", interlace "
                  << interlace;
    return Image{};
  }
  const size_t bpp = colour_type == 6 ? 4 : 3;
  const size_t stride = img.width * bpp;
  std::vector<unsigned char> raw((stride + 1) * img.height);
  uLongf raw_size = raw.size();
  if (uncompress(raw.data(), &raw_size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) != Z_OK ||
      raw_size != raw.size()) {
    ADD_FAILURE() << "cannot inflate the PNG's image data";
    return Image{};
  }
  std::vector<unsigned char> prev(stride, 0), line(stride);
  img.pixels.reserve(static_cast<size_t>(img.width) * img.height);
  for (uint32_t y = 0; y < img.height; ++y) {
    const unsigned char filter = raw[y * (stride + 1)];
    const unsigned char* in = &raw[y * (stride + 1) + 1];
    for (size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? line[x - bpp] : 0, b = prev[x], c = x >= bpp ? prev[x - bpp] : 0;
      int predicted = 0;
      switch (filter) {
        case 1:
          predicted = a;
          break;
        case 2:
          predicted = b;
          break;
        case 3:
          predicted = (a + b) / 2;
          break;
        case 4: {
          const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
          predicted = pa <= pb && pa <= pc ? a : (pb <= pc ? b : c);
          break;
        }
        default:
          break;
      }
      line[x] = static_cast<unsigned char>(in[x] + predicted);
    }
    for (size_t x = 0; x < stride; x += bpp) {
      img.pixels.push_back(static_cast<uint32_t>(line[x]) << 16 | static_cast<uint32_t>(line[x + 1]) << 8 |
                           line[x + 2]);
    }
    prev.swap(line);
  }
  return img;
}

uint32_t Rgb(const std::string& hex) { return static_cast<uint32_t>(std::stoul(hex.substr(1), nullptr, 16)); }

// Pixels within a few levels of a colour: the insides of filled shapes, not their antialiased rims.
size_t PixelsNear(const Image& img, uint32_t rgb) {
  size_t n = 0;
  for (uint32_t p : img.pixels) {
    bool near = true;
    for (int shift : {16, 8, 0})
      near = near && std::abs(static_cast<int>((p >> shift) & 0xff) - static_cast<int>((rgb >> shift) & 0xff)) <= 6;
    n += near;
  }
  return n;
}

Image Screenshot(const std::string& page, const std::string& work, const std::string& name) {
  const std::string png = work + "/" + name + ".png";
  Chromium(page, {"--screenshot=" + png, "--window-size=1200,800"}, work);
  return DecodePng(ReadFile(png));
}

// ---- a graph with known answers ----
v1::GraphNode* AddDevice(v1::Graph* g, int id, const std::string& label, const std::string& category) {
  v1::GraphNode* n = g->add_nodes();
  n->set_id(absl::StrCat("d:", id));
  n->set_kind("device");
  n->set_device_id(id);
  n->set_label(label);
  n->set_category(category);
  n->set_device_type(category.empty() ? "" : "some-type");
  n->set_risk_score(10 * (id % 10));
  n->add_ips(absl::StrCat("10.0.0.", id));
  return n;
}

void AddEdge(v1::Graph* g, const std::string& src, const std::string& dst, const std::string& protocol, uint32_t port,
             bool clinical, bool encrypted = false) {
  v1::GraphEdge* e = g->add_edges();
  e->set_src(src);
  e->set_dst(dst);
  e->set_transport(6);
  e->set_port(port);
  e->set_protocol(protocol);
  e->set_flows(3);
  e->set_bytes_to_dst(1000);
  e->set_bytes_to_src(200);
  e->set_clinical(clinical);
  e->set_phi(clinical);
  e->set_encrypted(encrypted);
}

// 15 nodes: 12 devices of the five categories (2 or 3 each), one device no rule classified with a
// label that tries to end the script, a group of outside hosts and a multicast address; 18 edges,
// 5 of them clinical (one encrypted).
v1::Graph Ward() {
  v1::Graph g;
  AddDevice(&g, 1, "CT scanner", "medical");
  AddDevice(&g, 2, "Infusion pump 7", "medical");
  AddDevice(&g, 3, "Patient monitor", "medical");
  AddDevice(&g, 4, "PACS", "clinical-it");
  AddDevice(&g, 5, "HL7 engine", "clinical-it");
  AddDevice(&g, 6, "EHR", "clinical-it");
  AddDevice(&g, 7, "Workstation", "it");
  AddDevice(&g, 8, "DC01", "it");
  AddDevice(&g, 9, "HVAC controller", "iot-building");
  AddDevice(&g, 10, "Camera", "iot-building");
  AddDevice(&g, 11, "Core switch", "network");
  AddDevice(&g, 12, "WLAN controller", "network");
  AddDevice(&g, 13, "</script><script>alert(1)</script> \"x\" & <!--", "");
  v1::GraphNode* outside = g.add_nodes();
  outside->set_id("n:203.0.113.0/24");
  outside->set_kind("network");
  outside->set_label("203.0.113.0/24");
  outside->set_external(true);
  v1::GraphNode* mdns = g.add_nodes();
  mdns->set_id("a:224.0.0.251");
  mdns->set_kind("address");
  mdns->set_label("224.0.0.251");
  AddEdge(&g, "d:1", "d:4", "dicom", 104, true);
  AddEdge(&g, "d:2", "d:5", "hl7", 2575, true);
  AddEdge(&g, "d:3", "d:5", "hl7", 2575, true);
  AddEdge(&g, "d:5", "d:6", "hl7", 2575, true);
  AddEdge(&g, "d:4", "d:6", "fhir", 443, true, /*encrypted=*/true);
  AddEdge(&g, "d:7", "d:8", "smb", 445, false);
  AddEdge(&g, "d:7", "d:6", "tls", 443, false, /*encrypted=*/true);
  for (int i : {1, 4, 5, 6, 9, 10, 12}) AddEdge(&g, absl::StrCat("d:", i), "d:11", "snmp", 161, false);
  AddEdge(&g, "d:2", "d:12", "http", 80, false);
  AddEdge(&g, "d:3", "d:12", "http", 80, false);
  AddEdge(&g, "d:13", "n:203.0.113.0/24", "tls", 443, false, true);
  AddEdge(&g, "d:8", "a:224.0.0.251", "mdns", 5353, false);
  return g;
}

TEST(GraphHtmlTest, ChromiumDrawsEveryNodeAndEdgeInTheirColours) {
  if (!cli::GraphHtmlBuiltIn()) GTEST_SKIP() << "configured with -DAUSCULT_GRAPH_HTML=OFF";
  const v1::Graph graph = Ward();
  ASSERT_EQ(graph.nodes_size(), 15);
  ASSERT_EQ(graph.edges_size(), 18);
  TempDir work;
  ASSERT_FALSE(work.path().empty());
  const std::string page = work.path() + "/ward.html";
  WriteFile(page, cli::GraphHtml(graph));

  const Drawing drawn = DrawnGraph(page, work.path());
  ASSERT_EQ(drawn.status, "done") << drawn.svg.substr(0, 2000);
  std::multiset<std::string> ids;
  for (const v1::GraphNode& n : graph.nodes()) ids.insert(n.id());
  EXPECT_EQ(drawn.nodes, ids);
  EXPECT_EQ(drawn.edges, 18u);
  EXPECT_EQ(drawn.clinical_edges, 5u);
  // The label stayed text: the drawing holds it escaped, and no element of its own.
  EXPECT_NE(drawn.svg.find("&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; \"x\" &amp; &lt;!--"),
            std::string::npos);
  EXPECT_EQ(drawn.svg.find("<script"), std::string::npos);
  std::cout << "drawn: " << drawn.nodes.size() << " nodes, " << drawn.edges << " edges, " << drawn.clinical_edges
            << " clinical\n";
  // The same graph, the same picture.
  EXPECT_EQ(DrawnGraph(page, work.path()).svg, drawn.svg) << "the layout is not deterministic";

  // The same layout once more with nothing classified and nothing clinical: what the colours add
  // to the picture is then the difference between the two screenshots (the legend is in both).
  v1::Graph plain = graph;
  for (v1::GraphNode& n : *plain.mutable_nodes()) n.clear_category();
  for (v1::GraphEdge& e : *plain.mutable_edges()) e.set_clinical(false);
  const std::string plain_page = work.path() + "/plain.html";
  WriteFile(plain_page, cli::GraphHtml(plain));

  const Image shot = Screenshot(page, work.path(), "ward");
  const Image plain_shot = Screenshot(plain_page, work.path(), "plain");
  ASSERT_EQ(shot.width, 1200u);
  ASSERT_EQ(shot.height, 800u);
  ASSERT_EQ(plain_shot.pixels.size(), shot.pixels.size());
  std::set<uint32_t> distinct(shot.pixels.begin(), shot.pixels.end());
  const size_t white = PixelsNear(shot, 0xffffff);
  std::cout << "screenshot " << shot.width << "x" << shot.height << ": " << distinct.size() << " colours, "
            << (shot.pixels.size() - white) * 100.0 / shot.pixels.size() << "% not white\n";
  EXPECT_GE(distinct.size(), 20u) << "a blank or one-colour page";
  EXPECT_GT(shot.pixels.size() - white, shot.pixels.size() / 50) << "less than 2% of the page is drawn";

  std::map<std::string, int> devices;
  for (const v1::GraphNode& n : graph.nodes()) {
    if (!n.category().empty()) ++devices[n.category()];
  }
  for (const auto& [category, count] : devices) {
    const uint32_t colour = Rgb(cli::CategoryColour(category));
    const size_t with = PixelsNear(shot, colour), without = PixelsNear(plain_shot, colour);
    std::cout << category << " " << cli::CategoryColour(category) << ": " << with << " px (" << without
              << " without categories) for " << count << " devices\n";
    // A device is a disc of radius 9 units, drawn here at 1.5 pixels a unit (the page's largest
    // scale): some 450 pixels of its colour inside the rim, of which edges and labels may hide some.
    EXPECT_GE(with, without + 200 * count) << category;
  }
  const uint32_t red = Rgb("#d62728");
  const size_t red_with = PixelsNear(shot, red), red_without = PixelsNear(plain_shot, red);
  std::cout << "clinical edges #d62728: " << red_with << " px (" << red_without << " with none clinical)\n";
  // Five edges 3 units wide and some 70 long, with their arrowheads: some 300 pixels each.
  EXPECT_GE(red_with, red_without + 5 * 150);
}

// The whole path: the collector's graph of real captures, through `auscult graph --format=html`,
// drawn with as many nodes and edges as `--format=json` lists.
TEST_F(CollectorTest, GraphHtmlDrawsWhatTheJsonLists) {
  if (!cli::GraphHtmlBuiltIn()) {
    const CommandResult r = Cli({"graph", "--format=html"});
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find("not built in"), std::string::npos) << r.err;
    GTEST_SKIP() << "configured with -DAUSCULT_GRAPH_HTML=OFF";
  }
  const auto found = CapturePaths(kGraphCaptures);
  ASSERT_TRUE(found) << "a capture of kGraphCaptures is missing";
  const std::vector<std::string>& captures = *found;
  ASSERT_EQ(RunSensor(captures, "ward").exit_code, 0);
  const google::protobuf::Value json = CliJson({"graph", "--max_nodes=5000"});
  std::multiset<std::string> ids;
  for (const auto& n : json.struct_value().fields().at("nodes").list_value().values()) {
    ids.insert(n.struct_value().fields().at("id").string_value());
  }
  size_t edges = 0, clinical = 0;
  for (const auto& e : json.struct_value().fields().at("edges").list_value().values()) {
    ++edges;
    clinical += e.struct_value().fields().at("clinical").bool_value();
  }
  ASSERT_GT(clinical, 0u) << "the captures hold DICOM and HL7";

  const CommandResult html = Cli({"graph", "--max_nodes=5000", "--format=html"});
  ASSERT_EQ(html.exit_code, 0) << html.err;
  TempDir work;
  ASSERT_FALSE(work.path().empty());
  const std::string page = work.path() + "/graph.html";
  WriteFile(page, html.out);
  const Drawing drawn = DrawnGraph(page, work.path());
  ASSERT_EQ(drawn.status, "done");
  EXPECT_EQ(drawn.nodes, ids);
  EXPECT_EQ(drawn.edges, edges);
  EXPECT_EQ(drawn.clinical_edges, clinical);
  std::cout << "json: " << ids.size() << " nodes, " << edges << " edges (" << clinical
            << " clinical); html drawn: " << drawn.nodes.size() << " nodes, " << drawn.edges << " edges ("
            << drawn.clinical_edges << " clinical)\n";
}

}  // namespace
}  // namespace auscult::testing
