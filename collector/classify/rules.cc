#include "collector/classify/rules.h"

#include <re2/re2.h>

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "auscult/v1/observation.pb.h"
#include "collector/store/enum_names.h"
#include "common/json_writer.h"
#include "common/logging.h"
#include "common/text.h"

namespace auscult::collector {
namespace {

// Defaults of each device type, from the fact sheet's FDA product codes (docs/classification.md).
struct TypeEntry {
  std::string_view type;
  TypeDefaults defaults;
};
constexpr TypeEntry kTypes[] = {
    {"infusion-pump", {"medical", "direct", "II"}},
    {"ventilator", {"medical", "direct", "II"}},
    {"anesthesia-machine", {"medical", "direct", "II"}},
    {"dialysis-machine", {"medical", "direct", "II"}},
    {"patient-monitor", {"medical", "indirect", "II"}},
    {"medical-device-gateway", {"medical", "indirect", ""}},
    {"ct", {"medical", "indirect", "II"}},
    {"mr", {"medical", "indirect", "II"}},
    {"ultrasound", {"medical", "indirect", "II"}},
    {"x-ray", {"medical", "indirect", ""}},
    {"mammography", {"medical", "indirect", ""}},
    {"nuclear-medicine", {"medical", "indirect", ""}},
    {"pet", {"medical", "indirect", ""}},
    {"fluoroscopy", {"medical", "indirect", ""}},
    {"pacs", {"clinical-it", "none", "II"}},
    {"modality-worklist-server", {"clinical-it", "none", ""}},
    {"hl7-interface-engine", {"clinical-it", "none", ""}},
    {"fhir-server", {"clinical-it", "none", ""}},
    {"poct-data-manager", {"clinical-it", "none", ""}},
    {"medical-workstation", {"clinical-it", "none", ""}},
    {"poc-analyzer", {"medical", "none", "II"}},
    {"lab-analyzer", {"medical", "none", ""}},
    {"nurse-call", {"clinical-it", "none", ""}},
    {"workstation", {"it", "none", ""}},
    {"server", {"it", "none", ""}},
    {"printer", {"it", "none", ""}},
    {"camera", {"it", "none", ""}},
    {"ip-phone", {"it", "none", ""}},
    {"mobile-device", {"it", "none", ""}},
    {"switch", {"network", "none", ""}},
    {"router", {"network", "none", ""}},
    {"wireless-ap", {"network", "none", ""}},
    {"firewall", {"network", "none", ""}},
    {"building-automation", {"iot-building", "none", ""}},
};
constexpr std::string_view kCategories[] = {"medical", "clinical-it", "it", "iot-building", "network"};
constexpr std::string_view kConnections[] = {"direct", "indirect", "none", "unknown"};
constexpr std::string_view kFdaClasses[] = {"", "I", "II", "III"};

template <typename Range>
bool In(const Range& range, std::string_view v) {
  return std::find(std::begin(range), std::end(range), v) != std::end(range);
}

constexpr size_t kMaxRules = 20000;
constexpr size_t kMaxPattern = 2048;

// A token of a line: its text with quotes removed and escapes resolved, and where its first '='
// outside quotes is (npos if none), so that `model="IntelliVue $1"` is key `model`, value
// `IntelliVue $1`.
struct Token {
  std::string text;
  size_t eq = std::string::npos;
};

absl::StatusOr<std::vector<Token>> Tokenize(std::string_view line) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    if (i >= line.size() || line[i] == '#') break;
    Token t;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') {
      const char c = line[i];
      if (c == '"') {
        ++i;
        bool closed = false;
        while (i < line.size()) {
          if (line[i] == '\\' && i + 1 < line.size() && (line[i + 1] == '"' || line[i + 1] == '\\')) {
            t.text.push_back(line[i + 1]);
            i += 2;
          } else if (line[i] == '"') {
            ++i;
            closed = true;
            break;
          } else {
            t.text.push_back(line[i++]);
          }
        }
        if (!closed) return absl::InvalidArgumentError("unterminated quoted string");
        continue;
      }
      if (c == '#') break;
      if (c == '=' && t.eq == std::string::npos) t.eq = t.text.size();
      t.text.push_back(c);
      ++i;
    }
    tokens.push_back(std::move(t));
    if (i < line.size() && line[i] == '#') break;
  }
  return tokens;
}

std::vector<std::string> SplitList(std::string_view v) {
  std::vector<std::string> out;
  for (absl::string_view part : absl::StrSplit(AsAbsl(v), ',')) {
    std::string n = NormalizeForMatch(AsStd(part));
    if (!n.empty()) out.push_back(std::move(n));
  }
  return out;
}

bool ParseCount(std::string_view v, int64_t* out) {
  return absl::SimpleAtoi(AsAbsl(v), out) && *out >= 0 && *out <= 1000000;
}

bool IsKnownAttribute(std::string_view name) { return AttributeFromLabel(name) != v1::ATTRIBUTE_UNSPECIFIED; }

// Parses the part of a `when`/`unless` line after the keyword.
absl::Status ParseClause(const std::vector<Token>& t, size_t start, RuleClause& c) {
  if (start >= t.size()) return absl::InvalidArgumentError("a condition is missing after when/unless");
  const std::string& subject = t[start].text;
  size_t i = start + 1;
  if (subject == "mac") {
    if (i + 1 >= t.size() || t[i].text != "prefix") return absl::InvalidArgumentError("expected: mac prefix VALUE");
    c.kind = RuleClause::Kind::kMacPrefix;
    for (absl::string_view p : absl::StrSplit(t[i + 1].text, ',', absl::SkipWhitespace())) {
      std::string hex;
      for (char ch : p) {
        if (ch == ':' || ch == '-' || ch == '.' || ch == ' ') continue;
        if (!std::isxdigit(static_cast<unsigned char>(ch))) {
          return absl::InvalidArgumentError(absl::StrCat("'", p, "' is not a MAC prefix"));
        }
        hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
      }
      if (hex.size() < 6 || hex.size() > 12) {
        return absl::InvalidArgumentError(absl::StrCat("'", p, "': a MAC prefix has 6 to 12 hex digits"));
      }
      c.mac_prefixes.push_back(std::move(hex));
    }
    if (c.mac_prefixes.empty()) return absl::InvalidArgumentError("mac prefix: no prefix given");
    if (i + 2 < t.size()) return absl::InvalidArgumentError(absl::StrCat("unexpected '", t[i + 2].text, "'"));
    return absl::OkStatus();
  }
  if (subject == "routes_traffic") {
    if (i + 1 >= t.size() || t[i].text != "=" || (t[i + 1].text != "true" && t[i + 1].text != "false")) {
      return absl::InvalidArgumentError("expected: routes_traffic = true|false");
    }
    c.kind = RuleClause::Kind::kRoutesTraffic;
    c.routes = t[i + 1].text == "true";
    if (i + 2 < t.size()) return absl::InvalidArgumentError(absl::StrCat("unexpected '", t[i + 2].text, "'"));
    return absl::OkStatus();
  }
  if (subject == "flow") {
    c.kind = RuleClause::Kind::kFlow;
    for (; i < t.size(); ++i) {
      const Token& q = t[i];
      if (q.text == "phi") {
        c.phi = true;
        continue;
      }
      if (q.text == "cleartext") {
        c.cleartext = true;
        continue;
      }
      if (q.eq == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("unexpected '", q.text, "'"));
      const std::string key = q.text.substr(0, q.eq), value = q.text.substr(q.eq + 1);
      if (key == "application") {
        c.application = value;
      } else if (key == "side") {
        if (value != "initiator" && value != "responder") {
          return absl::InvalidArgumentError("side: initiator or responder");
        }
        c.side = value == "initiator" ? 0 : 1;
      } else if (key == "port") {
        if (!absl::SimpleAtoi(value, &c.port) || c.port < 0 || c.port > 65535) {
          return absl::InvalidArgumentError(absl::StrCat("port: '", value, "' is not a port"));
        }
      } else if (key == "transport") {
        if (value == "tcp") {
          c.transport = 6;
        } else if (value == "udp") {
          c.transport = 17;
        } else {
          return absl::InvalidArgumentError("transport: tcp or udp");
        }
      } else if (key == "peers>") {
        if (!ParseCount(value, &c.peers)) return absl::InvalidArgumentError("peers>=: a number");
      } else {
        return absl::InvalidArgumentError(absl::StrCat("unknown flow condition '", key, "'"));
      }
    }
    return absl::OkStatus();
  }
  // An evidence attribute.
  if (!IsKnownAttribute(subject)) {
    return absl::InvalidArgumentError(absl::StrCat("unknown attribute '", subject, "'"));
  }
  c.kind = RuleClause::Kind::kEvidence;
  c.attribute = subject;
  if (i + 1 >= t.size()) return absl::InvalidArgumentError("expected: ATTRIBUTE OP VALUE");
  const std::string& op = t[i].text;
  const std::string& value = t[i + 1].text;
  if (op == "=") {
    c.op = MatchOp::kEqual;
    c.values = {NormalizeForMatch(value)};
  } else if (op == "!=") {
    c.op = MatchOp::kNotEqual;
    c.values = {NormalizeForMatch(value)};
  } else if (op == "prefix") {
    c.op = MatchOp::kPrefix;
    c.values = SplitList(value);
  } else if (op == "any-of") {
    c.op = MatchOp::kAnyOf;
    c.values = SplitList(value);
  } else if (op == "~") {
    c.op = MatchOp::kRegex;
    if (value.size() > kMaxPattern) return absl::InvalidArgumentError("regular expression longer than 2048 bytes");
    RE2::Options options;
    options.set_case_sensitive(false);
    options.set_log_errors(false);
    options.set_max_mem(1 << 20);
    auto re = std::make_shared<RE2>(value, options);
    if (!re->ok()) return absl::InvalidArgumentError(absl::StrCat("bad regular expression: ", re->error()));
    c.values = {value};
    c.regex = std::move(re);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("unknown operator '", op, "' (=, !=, ~, prefix, any-of)"));
  }
  if (c.op != MatchOp::kRegex && c.values.empty()) return absl::InvalidArgumentError("empty value list");
  for (i += 2; i < t.size(); ++i) {
    const Token& q = t[i];
    if (q.eq == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("unexpected '", q.text, "'"));
    const std::string key = q.text.substr(0, q.eq), v = q.text.substr(q.eq + 1);
    if (key == "field") {
      c.field = v;
    } else if (key == "protocol") {
      c.protocol = v;
    } else if (key == "distinct>") {
      // The classifier reads at most 64 values per attribute of a device (classifier.cc).
      if (!ParseCount(v, &c.distinct) || c.distinct > 64) {
        return absl::InvalidArgumentError("distinct>=: a number from 0 to 64");
      }
    } else if (key == "count>") {
      if (!ParseCount(v, &c.count)) return absl::InvalidArgumentError("count>=: a number");
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown qualifier '", key, "'"));
    }
  }
  return absl::OkStatus();
}

absl::Status ParseSet(const std::vector<Token>& t, Rule& rule) {
  if (t.size() < 2) return absl::InvalidArgumentError("set: nothing to set");
  for (size_t i = 1; i < t.size(); ++i) {
    if (t[i].eq == std::string::npos)
      return absl::InvalidArgumentError(absl::StrCat("set: expected KEY=VALUE, got '", t[i].text, "'"));
    std::string key = t[i].text.substr(0, t[i].eq);
    std::string value = t[i].text.substr(t[i].eq + 1);
    if (value.size() > 256 || HasControlCharacter(value))
      return absl::InvalidArgumentError("set: value too long or not text");
    if (key == "type") {
      if (!IsDeviceType(value)) return absl::InvalidArgumentError(absl::StrCat("unknown device type '", value, "'"));
      key = "device_type";
    } else if (key == "category") {
      if (!IsCategory(value)) return absl::InvalidArgumentError(absl::StrCat("unknown category '", value, "'"));
    } else if (key == "patient_connection") {
      if (!IsPatientConnection(value)) {
        return absl::InvalidArgumentError(
            absl::StrCat("patient_connection: '", value, "' (direct, indirect, none, unknown)"));
      }
    } else if (key == "fda_class") {
      if (!IsFdaClass(value))
        return absl::InvalidArgumentError(absl::StrCat("fda_class: '", value, "' (I, II, III or \"\")"));
    } else if (key != "vendor" && key != "model") {
      return absl::InvalidArgumentError(
          absl::StrCat("set: unknown key '", key, "' (category, type, vendor, model, patient_connection, fda_class)"));
    } else if (value.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("set: ", key, " is empty"));
    }
    for (auto& [k, v] : rule.set) {
      if (k == key) return absl::InvalidArgumentError(absl::StrCat("set: ", t[i].text.substr(0, t[i].eq), " twice"));
    }
    rule.set.emplace_back(std::move(key), std::move(value));
  }
  return absl::OkStatus();
}

absl::Status ParseRuleLine(const std::vector<Token>& t, Rule& rule) {
  if (t.size() < 2) return absl::InvalidArgumentError("rule: an id is missing");
  rule.id = t[1].text;
  if (rule.id.empty() || rule.id.size() > 64 || !std::isalnum(static_cast<unsigned char>(rule.id[0])) ||
      !std::all_of(rule.id.begin(), rule.id.end(), [](char ch) {
        return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' || ch == '.';
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat("rule id '", rule.id.substr(0, 64), "': lower-case letters, digits, - _ ."));
  }
  bool have_confidence = false;
  for (size_t i = 2; i < t.size(); ++i) {
    if (t[i].eq == std::string::npos) return absl::InvalidArgumentError(absl::StrCat("unexpected '", t[i].text, "'"));
    const std::string key = t[i].text.substr(0, t[i].eq), value = t[i].text.substr(t[i].eq + 1);
    if (key == "confidence" || key == "min_evidence") {
      double d = 0;
      if (!absl::SimpleAtod(value, &d) || !(d > 0 && d <= 1)) {
        return absl::InvalidArgumentError(absl::StrCat(key, ": a number above 0 and at most 1"));
      }
      (key == "confidence" ? rule.confidence : rule.min_evidence) = static_cast<float>(d);
      have_confidence |= key == "confidence";
    } else if (key == "source") {
      rule.source = value;
    } else if (key == "status") {
      if (value != "verified" && value != "sample" && value != "unverified") {
        return absl::InvalidArgumentError("status: verified, sample or unverified");
      }
      rule.status = value;
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown rule option '", key, "'"));
    }
  }
  if (!have_confidence) return absl::InvalidArgumentError(absl::StrCat("rule ", rule.id, ": confidence= is required"));
  if (rule.source.empty()) return absl::InvalidArgumentError(absl::StrCat("rule ", rule.id, ": source= is required"));
  return absl::OkStatus();
}

absl::Status FinishRule(const Rule& rule) {
  if (rule.when.empty()) return absl::InvalidArgumentError(absl::StrCat("rule ", rule.id, " has no when"));
  if (rule.set.empty()) return absl::InvalidArgumentError(absl::StrCat("rule ", rule.id, " sets nothing"));
  return absl::OkStatus();
}

std::string Fnv1aHex(std::string_view text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char ch : text) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, h >>= 4) out[static_cast<size_t>(i)] = kHex[h & 0xf];
  return out;
}

// ---- Evaluation ----

struct ClauseResult {
  bool holds = false;
  std::vector<const EvidenceRow*> rows;  // the evidence that matched (at most 8 kept)
  std::vector<std::string> captures;     // $1..$9 of the first regex match
  std::string flow;                      // the flow group that matched, described
  std::string mac;                       // the MAC that matched a prefix
};

bool ValueMatches(const RuleClause& c, const EvidenceRow& row, std::vector<std::string>* captures) {
  if (c.op == MatchOp::kRegex) {
    const int groups = std::min(c.regex->NumberOfCapturingGroups(), 9);
    std::vector<std::string> subs(static_cast<size_t>(std::max(groups, 0)));
    std::vector<RE2::Arg> args(subs.size());
    std::vector<const RE2::Arg*> ptrs(subs.size());
    for (size_t k = 0; k < subs.size(); ++k) {
      args[k] = RE2::Arg(&subs[k]);
      ptrs[k] = &args[k];
    }
    if (!RE2::PartialMatchN(row.value, *c.regex, ptrs.data(), static_cast<int>(ptrs.size()))) return false;
    if (captures != nullptr && captures->empty()) *captures = std::move(subs);
    return true;
  }
  const std::string v = NormalizeForMatch(row.value);
  switch (c.op) {
    case MatchOp::kEqual:
      return v == c.values[0];
    case MatchOp::kNotEqual:
      return v != c.values[0];
    case MatchOp::kAnyOf:
      return In(c.values, v);
    case MatchOp::kPrefix:
      return std::any_of(c.values.begin(), c.values.end(), [&](const std::string& p) { return v.rfind(p, 0) == 0; });
    case MatchOp::kRegex:
      break;
  }
  return false;
}

bool IsRandomizedMac(std::string_view hex) {
  // The locally administered bit of the first octet.
  int hi = 0;
  return hex.size() >= 2 && absl::SimpleHexAtoi(AsAbsl(hex.substr(0, 2)), &hi) && (hi & 0x02) != 0;
}

ClauseResult Evaluate(const Rule& rule, const RuleClause& c, const DeviceFacts& d) {
  ClauseResult r;
  switch (c.kind) {
    case RuleClause::Kind::kEvidence: {
      std::set<std::string> distinct;
      int64_t count = 0;
      for (const EvidenceRow& row : d.evidence) {
        if (row.attribute != c.attribute || row.confidence < rule.min_evidence) continue;
        if (!c.field.empty() && row.field != c.field) continue;
        if (!c.protocol.empty() && row.protocol != c.protocol) continue;
        if (!ValueMatches(c, row, &r.captures)) continue;
        distinct.insert(row.value);
        count += std::max<int64_t>(row.count, 1);
        if (r.rows.size() < 8) r.rows.push_back(&row);
      }
      r.holds = !distinct.empty() && static_cast<int64_t>(distinct.size()) >= c.distinct && count >= c.count;
      break;
    }
    case RuleClause::Kind::kMacPrefix: {
      std::string hex;
      for (char ch : d.mac) {
        if (ch != ':') hex.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
      }
      if (hex.size() != 12 || IsRandomizedMac(hex)) break;
      for (const std::string& p : c.mac_prefixes) {
        if (hex.rfind(p, 0) == 0) {
          r.holds = true;
          r.mac = d.mac;
          break;
        }
      }
      break;
    }
    case RuleClause::Kind::kFlow: {
      for (const FlowGroup& g : d.flows) {
        if (!c.application.empty() && g.application != c.application) continue;
        if (c.side >= 0 && g.initiator != (c.side == 0)) continue;
        if (c.port >= 0 && g.port != static_cast<uint32_t>(c.port)) continue;
        if (c.transport >= 0 && g.transport != static_cast<uint32_t>(c.transport)) continue;
        if (c.phi && !g.phi) continue;
        if (c.cleartext && !g.cleartext) continue;
        if (g.peers < c.peers) continue;
        r.holds = true;
        r.flow = absl::StrCat(g.application.empty() ? "unknown" : g.application, " ",
                              g.initiator ? "initiator" : "responder", " ", g.transport == 17 ? "udp" : "tcp", "/",
                              g.port, " peers=", g.peers);
        break;
      }
      break;
    }
    case RuleClause::Kind::kRoutesTraffic:
      r.holds = d.routes_traffic == c.routes;
      break;
  }
  return r;
}

std::string Substitute(std::string_view value, const std::vector<std::string>& captures, const std::string& first) {
  if (value.find('$') == std::string_view::npos) return std::string(value);
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    if (value[i] == '$' && value.substr(i, 6) == "$value") {
      out += first;
      i += 5;
    } else if (value[i] == '$' && i + 1 < value.size() && value[i + 1] >= '1' && value[i + 1] <= '9') {
      const size_t k = static_cast<size_t>(value[i + 1] - '1');
      if (k < captures.size()) out += captures[k];
      ++i;
    } else {
      out.push_back(value[i]);
    }
  }
  // At most 256 bytes, cut where a UTF-8 character starts (the database takes only valid UTF-8).
  if (out.size() > 256) {
    size_t cut = 256;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;
    out.resize(cut);
  }
  return out;
}

struct Proposal {
  std::string value;
  float confidence = 0;
  size_t order = 0;  // the rule's place in the file
  const Rule* rule = nullptr;
  std::string evidence_json;
};

bool Better(const Proposal& a, const Proposal& b) {
  return a.confidence > b.confidence || (a.confidence == b.confidence && a.order < b.order);
}

}  // namespace

std::string NormalizeForMatch(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  bool space = false;
  for (char ch : v) {
    const bool ws = ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
    if (ws) {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
  }
  return out;
}

const TypeDefaults* DefaultsOfType(std::string_view type) {
  for (const TypeEntry& e : kTypes) {
    if (e.type == type) return &e.defaults;
  }
  return nullptr;
}
bool IsDeviceType(std::string_view v) { return v == "unknown" || DefaultsOfType(v) != nullptr; }
bool IsCategory(std::string_view v) { return In(kCategories, v); }
bool IsPatientConnection(std::string_view v) { return In(kConnections, v); }
bool IsFdaClass(std::string_view v) { return In(kFdaClasses, v); }

absl::StatusOr<RuleSet> ParseRules(std::string_view text, std::string_view name) {
  RuleSet set;
  set.version = Fnv1aHex(text);
  std::set<std::string> ids;
  Rule* current = nullptr;
  int line_number = 0;
  auto error = [&](const absl::Status& s, int line) {
    return absl::InvalidArgumentError(absl::StrCat(AsAbsl(name), ":", line, ": ", s.message()));
  };
  for (absl::string_view piece : absl::StrSplit(AsAbsl(text), '\n')) {
    std::string_view line = AsStd(piece);
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (HasControlCharacter(line)) {
      std::string_view stripped = line;
      // Tabs are white space here; anything else is not text.
      if (std::any_of(stripped.begin(), stripped.end(),
                      [](char ch) { return ch != '\t' && static_cast<unsigned char>(ch) < 0x20; })) {
        return error(absl::InvalidArgumentError("control character"), line_number);
      }
    }
    auto tokens = Tokenize(line);
    if (!tokens.ok()) return error(tokens.status(), line_number);
    if (tokens->empty()) continue;
    const bool indented = line[0] == ' ' || line[0] == '\t';
    const std::string& head = (*tokens)[0].text;
    if (!indented) {
      if (head != "rule")
        return error(absl::InvalidArgumentError(absl::StrCat("expected 'rule', got '", head.substr(0, 40), "'")),
                     line_number);
      if (current != nullptr) {
        if (auto s = FinishRule(*current); !s.ok()) return error(s, current->line);
      }
      if (set.rules.size() >= kMaxRules) return error(absl::InvalidArgumentError("more than 20000 rules"), line_number);
      Rule rule;
      rule.line = line_number;
      if (auto s = ParseRuleLine(*tokens, rule); !s.ok()) return error(s, line_number);
      if (!ids.insert(rule.id).second) {
        return error(absl::InvalidArgumentError(absl::StrCat("rule id '", rule.id, "' used twice")), line_number);
      }
      set.rules.push_back(std::move(rule));
      current = &set.rules.back();
      continue;
    }
    if (current == nullptr) return error(absl::InvalidArgumentError("indented line outside a rule"), line_number);
    if (head == "when" || head == "unless") {
      if (!current->set.empty()) return error(absl::InvalidArgumentError("when/unless after set"), line_number);
      RuleClause clause;
      clause.line = line_number;
      if (auto s = ParseClause(*tokens, 1, clause); !s.ok()) return error(s, line_number);
      (head == "when" ? current->when : current->unless).push_back(std::move(clause));
    } else if (head == "set") {
      if (auto s = ParseSet(*tokens, *current); !s.ok()) return error(s, line_number);
    } else {
      return error(
          absl::InvalidArgumentError(absl::StrCat("expected when, unless or set, got '", head.substr(0, 40), "'")),
          line_number);
    }
  }
  if (current != nullptr) {
    if (auto s = FinishRule(*current); !s.ok()) return error(s, current->line);
  }
  for (const Rule& rule : set.rules) {
    for (const auto* clauses : {&rule.when, &rule.unless}) {
      for (const RuleClause& c : *clauses) set.counts_evidence |= c.kind == RuleClause::Kind::kEvidence && c.count > 1;
    }
  }
  return set;
}

Classification Classify(const RuleSet& rules, const DeviceFacts& device) {
  std::map<std::string, std::vector<Proposal>> proposals;
  for (size_t order = 0; order < rules.rules.size(); ++order) {
    const Rule& rule = rules.rules[order];
    std::vector<ClauseResult> results;
    bool fires = true;
    for (const RuleClause& c : rule.when) {
      ClauseResult r = Evaluate(rule, c, device);
      if (!r.holds) {
        fires = false;
        break;
      }
      results.push_back(std::move(r));
    }
    if (!fires) continue;
    for (const RuleClause& c : rule.unless) {
      if (Evaluate(rule, c, device).holds) {
        fires = false;
        break;
      }
    }
    if (!fires) continue;
    // What made it fire, for the analyst; and $1..$9 / $value for its values.
    std::vector<std::string> captures;
    std::string first_value;
    JsonWriter json;
    json.BeginArray();
    for (const ClauseResult& r : results) {
      if (captures.empty() && !r.captures.empty()) captures = r.captures;
      if (first_value.empty() && !r.rows.empty()) first_value = r.rows[0]->value;
      for (const EvidenceRow* row : r.rows) {
        json.BeginObject()
            .Key("attribute")
            .String(row->attribute)
            .Key("value")
            .String(row->value)
            .Key("protocol")
            .String(row->protocol)
            .Key("field")
            .String(row->field)
            .Key("sensor_id")
            .String(row->sensor_id)
            .EndObject();
      }
      if (!r.flow.empty()) json.BeginObject().Key("flow").String(r.flow).EndObject();
      if (!r.mac.empty()) json.BeginObject().Key("mac").String(r.mac).EndObject();
      if (r.rows.empty() && r.flow.empty() && r.mac.empty()) {
        json.BeginObject().Key("routes_traffic").Bool(device.routes_traffic).EndObject();
      }
    }
    json.EndArray();
    const std::string evidence = json.str();
    auto propose = [&](const std::string& key, std::string value) {
      proposals[key].push_back(Proposal{std::move(value), rule.confidence, order, &rule, evidence});
    };
    std::set<std::string> explicit_keys;
    for (const auto& [key, value] : rule.set) {
      explicit_keys.insert(key);
      std::string v = Substitute(value, captures, first_value);
      if ((key == "vendor" || key == "model") && v.empty()) continue;
      propose(key, std::move(v));
    }
    for (const auto& [key, value] : rule.set) {
      if (key != "device_type") continue;
      if (const TypeDefaults* defaults = DefaultsOfType(value)) {
        if (!explicit_keys.count("category")) propose("category", std::string(defaults->category));
        if (!explicit_keys.count("patient_connection")) {
          propose("patient_connection", std::string(defaults->patient_connection));
        }
        if (!explicit_keys.count("fda_class")) propose("fda_class", std::string(defaults->fda_class));
      }
    }
  }
  Classification out;
  auto best_of = [](const std::vector<Proposal>& list) {
    const Proposal* best = &list[0];
    for (const Proposal& p : list) {
      if (Better(p, *best)) best = &p;
    }
    return best;
  };
  const Rule* type_rule = nullptr;
  for (auto& [key, list] : proposals) {
    const Proposal* best = best_of(list);
    if (key == "device_type") type_rule = best->rule;
  }
  for (auto& [key, list] : proposals) {
    const Proposal* best = best_of(list);
    if (type_rule != nullptr && (key == "category" || key == "patient_connection" || key == "fda_class")) {
      // The winning type's own values stand unless something is strictly surer.
      for (const Proposal& p : list) {
        if (p.rule == type_rule && !(best->confidence > p.confidence)) {
          best = &p;
          break;
        }
      }
    }
    out[key] = Decision{best->value, best->confidence, best->rule->id, best->evidence_json};
  }
  return out;
}

}  // namespace auscult::collector
