#include "sensor/parsers/wsd/wsd_message.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/logging.h"

namespace auscult::sensor::wsd {
namespace {

// Tags read per message: a Hello or a ProbeMatch has a few dozen; a datagram is at most 64 KiB.
constexpr size_t kMaxElements = 1024;
constexpr size_t kMaxValues = 64;  // types, and scopes, per message

struct Tag {
  std::string_view local;  // the name without its namespace prefix
  bool closing = false;
  bool self_closing = false;
  size_t content = 0;  // offset just after the tag
};

// Walks the start and end tags of XML text, skipping the XML declaration, processing
// instructions, comments, CDATA sections and DOCTYPE. Every call moves forward.
class TagScanner {
 public:
  explicit TagScanner(std::string_view xml) : xml_(xml) {}

  // The next tag; false at the end, or at markup that does not close.
  bool Next(Tag& tag) {
    while (pos_ < xml_.size()) {
      const size_t lt = xml_.find('<', pos_);
      if (lt == std::string_view::npos || lt + 1 >= xml_.size()) return Stop();
      const std::string_view at = xml_.substr(lt);
      if (at.starts_with("<!--")) {
        if (!SkipPast(lt + 4, "-->")) return false;
        continue;
      }
      if (at.starts_with("<![CDATA[")) {
        if (!SkipPast(lt + 9, "]]>")) return false;
        continue;
      }
      if (at[1] == '?' || at[1] == '!') {
        if (!SkipPast(lt + 2, ">")) return false;
        continue;
      }
      tag.closing = at[1] == '/';
      const size_t name_begin = lt + 1 + (tag.closing ? 1 : 0);
      size_t name_end = name_begin;
      while (name_end < xml_.size() && !IsSpace(xml_[name_end]) && xml_[name_end] != '>' && xml_[name_end] != '/') {
        ++name_end;
      }
      // The tag ends at the first '>' outside a quoted attribute value.
      char quote = 0;
      size_t gt = name_end;
      for (; gt < xml_.size(); ++gt) {
        const char c = xml_[gt];
        if (quote != 0) {
          if (c == quote) quote = 0;
        } else if (c == '"' || c == '\'') {
          quote = c;
        } else if (c == '>') {
          break;
        }
      }
      if (gt >= xml_.size()) return Stop();
      std::string_view name = xml_.substr(name_begin, name_end - name_begin);
      if (const size_t colon = name.rfind(':'); colon != std::string_view::npos) name.remove_prefix(colon + 1);
      tag.local = name;
      tag.self_closing = !tag.closing && xml_[gt - 1] == '/';
      tag.content = gt + 1;
      pos_ = gt + 1;
      return true;
    }
    return false;
  }

  // Character data from `from` to the next markup.
  std::string_view TextFrom(size_t from) const {
    const size_t lt = xml_.find('<', from);
    return xml_.substr(from, lt == std::string_view::npos ? std::string_view::npos : lt - from);
  }

 private:
  static bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
  bool Stop() {
    pos_ = xml_.size();
    return false;
  }
  bool SkipPast(size_t from, std::string_view end) {
    const size_t e = xml_.find(end, from);
    if (e == std::string_view::npos) return Stop();
    pos_ = e + end.size();
    return true;
  }

  std::string_view xml_;
  size_t pos_ = 0;
};

// The predefined entities (XML 1.0 §4.6); character references are left as they are.
std::string Unescape(std::string_view s) {
  static constexpr std::pair<std::string_view, char> kEntities[] = {
      {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    bool replaced = false;
    if (s[i] == '&') {
      for (const auto& [entity, c] : kEntities) {
        if (s.substr(i).starts_with(entity)) {
          out += c;
          i += entity.size();
          replaced = true;
          break;
        }
      }
    }
    if (!replaced) out += s[i++];
  }
  return out;
}

// A white-space separated list (xs:list of QNames or URIs).
void AppendList(std::string_view text, std::vector<std::string>& out) {
  const std::string unescaped = Unescape(text);
  for (absl::string_view item : absl::StrSplit(unescaped, absl::ByAnyChar(" \t\r\n"), absl::SkipEmpty())) {
    if (out.size() >= kMaxValues) return;
    out.emplace_back(item);
  }
}

Message::Kind KindOf(std::string_view local) {
  if (local == "Hello") return Message::Kind::kHello;
  if (local == "Bye") return Message::Kind::kBye;
  if (local == "Probe") return Message::Kind::kProbe;
  if (local == "ProbeMatches") return Message::Kind::kProbeMatches;
  if (local == "Resolve") return Message::Kind::kResolve;
  if (local == "ResolveMatches") return Message::Kind::kResolveMatches;
  return Message::Kind::kOther;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = absl::ascii_tolower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      const int hi = HexDigit(s[i + 1]);
      const int lo = HexDigit(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi << 4 | lo);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

const char* ErrorName(Error e) {
  switch (e) {
    case Error::kNone:
      return "none";
    case Error::kNotSoap:
      return "ws_discovery_not_soap";
    case Error::kNoBody:
      return "ws_discovery_no_body";
    case Error::kTooManyElements:
      return "ws_discovery_too_many_elements";
  }
  return "unknown";
}

bool LooksLikeXml(std::span<const uint8_t> bytes) {
  std::string_view s(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  if (s.starts_with("\xef\xbb\xbf")) s.remove_prefix(3);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
    s.remove_prefix(1);
  }
  return s.starts_with("<");
}

bool Parse(std::span<const uint8_t> payload, Message& m, Error& error) {
  error = Error::kNone;
  const std::string_view text(reinterpret_cast<const char*>(payload.data()), payload.size());
  TagScanner scanner(text);
  Tag tag;
  bool envelope = false, in_body = false, body = false, first_child = true;
  for (size_t elements = 0; scanner.Next(tag); ++elements) {
    if (elements == kMaxElements) {
      error = Error::kTooManyElements;
      return false;
    }
    if (!envelope) {  // the document element must be the SOAP envelope
      if (tag.closing || tag.local != "Envelope") break;
      envelope = true;
      continue;
    }
    if (tag.local == "Body") {
      in_body = !tag.closing && !tag.self_closing;
      body = true;
      continue;
    }
    if (!in_body || tag.closing) continue;
    if (first_child) m.kind = KindOf(tag.local);  // the body's first element names the message
    first_child = false;
    if (tag.self_closing) continue;
    if (tag.local == "Types") AppendList(scanner.TextFrom(tag.content), m.types);
    if (tag.local == "Scopes") AppendList(scanner.TextFrom(tag.content), m.scopes);
  }
  if (!envelope) {
    error = Error::kNotSoap;
    return false;
  }
  if (!body) {
    error = Error::kNoBody;
    return false;
  }
  m.mdpws_namespace = text.find(kMdpwsNamespace) != std::string_view::npos;
  return true;
}

Sdc ReadSdc(const Message& m) {
  Sdc sdc;
  if (m.mdpws_namespace) {
    for (const std::string& type : m.types) {
      const size_t colon = type.rfind(':');
      const std::string_view local = colon == std::string::npos ? type : std::string_view(type).substr(colon + 1);
      if (local == "MedicalDevice") {
        sdc.medical_device = true;
        sdc.evidence = "types";
      }
    }
  }
  for (const std::string& scope : m.scopes) {
    if (absl::StartsWithIgnoreCase(scope, "sdc.mds.pkp:") && !sdc.medical_device) {
      sdc.medical_device = true;
      sdc.evidence = "scopes";
    }
    if (absl::StartsWithIgnoreCase(scope, "sdc.ctxt.pat:")) sdc.patient = true;
  }
  return sdc;
}

OnvifScope ParseOnvifScope(std::string_view scope) {
  constexpr std::string_view kPrefix = "onvif://www.onvif.org/";
  if (scope.size() <= kPrefix.size() ||
      !absl::EqualsIgnoreCase(AsAbsl(scope.substr(0, kPrefix.size())), AsAbsl(kPrefix)))
    return {};
  const std::string_view rest = scope.substr(kPrefix.size());
  for (std::string_view key : {"hardware", "type", "name"}) {
    if (rest.size() > key.size() + 1 && absl::EqualsIgnoreCase(AsAbsl(rest.substr(0, key.size())), AsAbsl(key)) &&
        rest[key.size()] == '/') {
      return OnvifScope{key, PercentDecode(rest.substr(key.size() + 1))};
    }
  }
  return {};
}

}  // namespace auscult::sensor::wsd
