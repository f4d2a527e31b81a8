// libFuzzer target for the application-protocol parsers, one at a time or all of them.
//
// The parser is chosen by the environment variable AUSCULT_FUZZ_PARSER (a name from
// sensor/parsers/registry.cc: "dhcp", "http", "lldp", ...; "list" names them all); without it,
// the input's first byte chooses. The harness calls the parser directly, whatever its Wants() says of the input, so the
// fuzzer spends its time in the parser rather than in the dispatch.
//
// Input for a flow parser (TCP streams and UDP datagrams alike):
//   | transport (odd: UDP, even: TCP) | responder port (2, big-endian) | record ... |
//   record: | flags (bit 0: to initiator, bit 1: a gap of `length` bytes) | length (2) | bytes |
// Input for a frame parser (LLDP, CDP) and for "tcp_os" (the SYN/SYN-ACK fingerprinter, with the
// shipped fingerprint file): one Ethernet frame.
//
// Seeds come from the real captures (sensor/fuzz/make_seeds.py writes them in this format):
//   cmake -S . -B build-fuzz -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang -DAUSCULT_FUZZ=ON
//   ninja -C build-fuzz parser_fuzz
//   sensor/fuzz/make_seeds.py tls /tmp/seeds/tls
//   AUSCULT_FUZZ_PARSER=tls build-fuzz/bin/parser_fuzz -max_total_time=300 /tmp/corpus/tls /tmp/seeds/tls
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "common/byte_reader.h"
#include "sensor/decode/decoder.h"
#include "sensor/parsers/registry.h"
#include "sensor/parsers/tcp_os/tcp_os.h"

namespace auscult::sensor {
namespace {

// Checks what parsers promise of their output; a broken promise aborts (a finding for the fuzzer).
void Require(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "parser broke its contract: %s\n", what);
    std::abort();
  }
}

void CheckFact(const Fact& f) {
  Require(!f.protocol.empty() && !f.field.empty(), "fact without provenance");
  Require(f.confidence > 0.0f && f.confidence <= 1.0f, "confidence outside (0, 1]");
  Require(static_cast<int>(f.attribute) > 0, "fact without attribute");
  // Values are cut to 1 KiB on export; a parser that builds megabyte values wastes the sensor's memory.
  Require(f.value.size() <= 64 * 1024, "fact value over 64 KiB");
}

class CheckingOutput : public ParserOutput, public FactSink {
 public:
  void SetApplication(std::string_view name) override { Require(!name.empty(), "empty application name"); }
  void AddFact(Party, const Fact& f) override { CheckFact(f); }
  void AddFactForMac(const MacAddress&, const Fact& f) override { CheckFact(f); }
  void AddFactForAddress(const IpAddress& ip, const Fact& f) override {
    Require(ip.IsSet(), "fact for an unset address");
    CheckFact(f);
  }
  void BindAddress(const MacAddress&, const IpAddress& ip, AddressSource) override {
    Require(ip.IsSet(), "binding of an unset address");
  }
  void CountAnomaly(std::string_view name) override { Require(!name.empty(), "unnamed anomaly"); }
  void CountPhi(PhiKind kind) override {
    Require(static_cast<int>(kind) >= 1 && static_cast<int>(kind) <= kPhiKinds, "unknown PHI kind");
  }
  void CountMessage(std::string_view name, TimeNs response_time) override {
    Require(!name.empty() && name.size() <= kMaxMessageName, "message name empty or too long");
    for (char c : name) Require(c >= 0x20 && c < 0x7f, "message name not printable ASCII");
    Require(response_time >= -1, "negative response time");
  }
  void OnFact(const MacAddress*, const IpAddress&, const Fact& f, TimeNs) override { CheckFact(f); }
  void OnBinding(const MacAddress&, const IpAddress& ip, AddressSource, TimeNs) override {
    Require(ip.IsSet(), "binding of an unset address");
  }
  void OnAddressFact(const IpAddress& ip, const Fact& f, TimeNs) override { AddFactForAddress(ip, f); }
};

void FuzzFlowParser(const ParserFactory& factory, ByteReader& in) {
  const uint8_t transport = in.U8();
  FlowContext flow;
  flow.transport = (transport & 1) ? kIpProtoUdp : kIpProtoTcp;
  flow.initiator.ip = *IpAddress::Parse("10.0.0.1");
  flow.initiator.port = 49152;
  flow.responder.ip = *IpAddress::Parse("10.0.0.2");
  flow.responder.port = in.U16();
  if (!in.ok()) return;
  const auto parser = factory.Create(flow);
  CheckingOutput out;
  TimeNs now = kNanosPerSecond;
  while (in.ok() && in.remaining() > 0 && !parser->Done()) {
    const uint8_t flags = in.U8();
    const uint16_t length = in.U16();
    const Direction d = (flags & 1) ? Direction::kToInitiator : Direction::kToResponder;
    if (flags & 2) {
      parser->OnGap(d, length, out);
      continue;
    }
    const size_t n = std::min<size_t>(length, in.remaining());
    const uint8_t* bytes = in.Bytes(n);
    if (bytes == nullptr) break;
    parser->OnData(d, std::span(bytes, n), now, out);
    now += 1000;
  }
  if (!parser->Done()) parser->OnEnd(out);
}

// The input as one captured Ethernet frame, decoded; `cut` more bytes were on the wire than captured.
bool DecodeEthernet(const uint8_t* data, size_t size, PacketView& view, uint32_t cut = 0) {
  RawFrame frame;
  frame.data = data;
  frame.captured_length = static_cast<uint32_t>(size);
  frame.wire_length = static_cast<uint32_t>(size) + cut;
  frame.timestamp = kNanosPerSecond;
  frame.link_type = 1;  // Ethernet
  Decoder decoder;
  return decoder.Decode(frame, view);
}

void FuzzFrameParser(FrameParser& parser, const uint8_t* data, size_t size) {
  PacketView view;
  if (!DecodeEthernet(data, size, view) || view.has_ip) return;
  CheckingOutput out;
  parser.OnFrame(view, out);
}

void FuzzTcpOs(const uint8_t* data, size_t size) {
  static const tcp_os::Database* database = [] {
    const tcp_os::Database* db = tcp_os::ShippedDatabase();
    if (db == nullptr) {
      std::fprintf(stderr, "the shipped tcp_os_fingerprints.txt does not load\n");
      std::exit(2);
    }
    return db;
  }();
  PacketView view;
  // The frame's last byte also says how much the snap length cut (0-7 bytes), so that cut option
  // lists are explored too.
  const uint32_t cut = size > 0 ? data[size - 1] & 0x07 : 0;
  if (!DecodeEthernet(data, size, view, cut) || !view.has_ip || view.ip_protocol != kIpProtoTcp) return;
  CheckingOutput out;
  tcp_os::Fingerprinter fingerprinter(database);
  fingerprinter.OnTcp(view, out);
}

struct Choice {
  const ParserFactory* flow = nullptr;
  FrameParser* frame = nullptr;
  bool tcp_os = false;
};

// The parser named by AUSCULT_FUZZ_PARSER, or none (then each input chooses). "list" prints every
// name and exits, so that the test suite can tell when a registered parser has no fuzz test.
Choice Named() {
  const char* name = std::getenv("AUSCULT_FUZZ_PARSER");
  if (name == nullptr || *name == '\0') return {};
  if (std::string_view(name) == "list") {
    for (const ParserFactory* f : Parsers()) std::printf("%s\n", std::string(f->name()).c_str());
    for (FrameParser* p : FrameParsers()) std::printf("%s\n", std::string(p->name()).c_str());
    std::printf("tcp_os\n");
    std::fflush(stdout);
    std::_Exit(0);  // not exit(): libFuzzer reports a target that exits as a finding
  }
  for (const ParserFactory* f : Parsers()) {
    if (f->name() == name) return {f, nullptr};
  }
  for (FrameParser* p : FrameParsers()) {
    if (p->name() == name) return {nullptr, p};
  }
  if (std::string_view(name) == "tcp_os") return {nullptr, nullptr, true};
  std::fprintf(stderr, "AUSCULT_FUZZ_PARSER=%s: no such parser in sensor/parsers/registry.cc\n", name);
  std::exit(2);
}

}  // namespace
}  // namespace auscult::sensor

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace auscult::sensor;
  static const Choice named = Named();
  Choice choice = named;
  if (choice.flow == nullptr && choice.frame == nullptr && !choice.tcp_os) {
    if (size == 0) return 0;
    const size_t flow_count = Parsers().size();
    const size_t pick = data[0] % (flow_count + FrameParsers().size() + 1);
    ++data;
    --size;
    if (pick < flow_count) {
      choice.flow = Parsers()[pick];
    } else if (pick < flow_count + FrameParsers().size()) {
      choice.frame = FrameParsers()[pick - flow_count];
    } else {
      choice.tcp_os = true;
    }
  }
  if (choice.tcp_os) {
    FuzzTcpOs(data, size);
  } else if (choice.flow != nullptr) {
    auscult::ByteReader in(data, size);
    FuzzFlowParser(*choice.flow, in);
  } else {
    FuzzFrameParser(*choice.frame, data, size);
  }
  return 0;
}
