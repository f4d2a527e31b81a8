#include "collector/advisories/matcher.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/logging.h"

namespace auscult::collector::advisories {
namespace {

// ---- Text folding (N1, N2)

// Latin-1 supplement letters U+00C0..U+00FF to ASCII ("ä" -> "a": Dräger, Drägerwerk; the
// spelling "Draeger" is in the alias table).
constexpr const char* kLatin1Fold[64] = {
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // C0-CF
    "d", "n", "o", "o", "o", "o", "o",  "x", "o", "u", "u", "u", "u", "y", "th", "ss",  // D0-DF
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",   // E0-EF
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y"};  // F0-FF

// "YhtymÃ¤" is "Yhtymä" encoded twice (UTF-8 read as Latin-1, then written as UTF-8 again): one
// survey file has it. Undone when every two-byte sequence decodes to a byte that forms UTF-8 again.
std::string RepairMojibake(std::string_view s) {
  if (s.find("\xc3") == std::string_view::npos) return std::string(s);
  std::string bytes;
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      bytes.push_back(static_cast<char>(c));
    } else if ((c == 0xc2 || c == 0xc3) && i + 1 < s.size()) {
      const unsigned char n = static_cast<unsigned char>(s[i + 1]);
      bytes.push_back(static_cast<char>(((c & 0x03) << 6) | (n & 0x3f)));
      ++i;
    } else {
      return std::string(s);  // a character beyond Latin-1: the text is not double-encoded
    }
  }
  // Valid UTF-8 with at least one multi-byte sequence, else the original was right.
  bool multibyte = false;
  for (size_t i = 0; i < bytes.size();) {
    const unsigned char c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xe0) != 0xc0 || i + 1 >= bytes.size() || (static_cast<unsigned char>(bytes[i + 1]) & 0xc0) != 0x80) {
      return std::string(s);
    }
    multibyte = true;
    i += 2;
  }
  return multibyte ? bytes : std::string(s);
}

std::string Fold(std::string_view raw, bool join_hyphens) {
  const std::string text = RepairMojibake(raw);
  std::string out;
  bool space = true;
  auto put = [&](std::string_view piece) {
    for (char ch : piece) {
      out.push_back(ch);
      space = false;
    }
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c == 0xc3 && i + 1 < text.size()) {
      const unsigned char n = static_cast<unsigned char>(text[i + 1]);
      if (n >= 0x80 && n <= 0xbf) {
        put(kLatin1Fold[(n & 0x3f)]);
        ++i;
        continue;
      }
    }
    if (std::isalnum(c)) {
      put(std::string_view(reinterpret_cast<const char*>(&c), 1));
      out.back() = static_cast<char>(std::tolower(c));
    } else if (c == '-' && join_hyphens) {
      continue;
    } else if (c == '\'') {
      continue;  // "N'Vision" -> nvision
    } else if (!space) {
      out.push_back(' ');
      space = true;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

std::vector<std::string> Words(std::string_view folded) {
  return absl::StrSplit(AsAbsl(folded), ' ', absl::SkipEmpty());
}

// Whether `needle` occurs in `hay` as consecutive words.
bool ContainsWords(const std::vector<std::string>& hay, const std::vector<std::string>& needle) {
  if (needle.empty() || needle.size() > hay.size()) return false;
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

// ---- Vendors (N3-N5)

struct VendorAlias {
  const char* key;
  std::vector<const char*> names;  // folded; a name matches a whole folded vendor or its first words
};

// Every vendor of CISA's medical advisories, and the forms the IEEE registry and Auscult's
// classification rules give the same companies (docs/advisories-survey.md, section 6).
const std::vector<VendorAlias>& Aliases() {
  static const auto* kAliases = new std::vector<VendorAlias>{
      {"abbott", {"abbott", "abbott laboratories", "abbott diagnostics"}},
      {"alivecor", {"alivecor"}},
      {"b-braun", {"b braun", "bbraun", "b braun melsungen", "b braun medical"}},
      {"baxter", {"baxter", "baxter international", "baxter healthcare"}},
      {"bd", {"becton dickinson", "bd", "carefusion", "care fusion"}},
      {"beaconmedaes", {"beaconmedaes", "beacon medaes"}},
      {"biotronik", {"biotronik"}},
      {"bmc-medical", {"bmc medical", "3b medical"}},
      {"boston-scientific", {"boston scientific"}},
      {"bpl", {"bpl medical technologies", "bpl"}},
      {"capsule", {"capsule technologies", "capsule tech", "capsule technologie", "qualcomm life"}},
      {"carestream", {"carestream", "carestream health"}},
      {"change-healthcare", {"change healthcare"}},
      {"contec-health", {"contec health", "contec medical systems"}},
      {"draeger", {"drager", "draeger", "dragerwerk", "draegerwerk", "draeger medical", "drager medical"}},
      {"fresenius-kabi", {"fresenius kabi", "fresenius"}},
      {"fujifilm", {"fujifilm", "fuji film", "fujifilm medical systems"}},
      {"ge-healthcare",
       {"ge healthcare", "general electric", "ge", "gehc", "ge medical systems", "ge medical", "datex ohmeda"}},
      {"hamilton-medical", {"hamilton medical"}},
      {"hillrom", {"hillrom", "hill rom"}},
      {"icu-medical", {"icu medical"}},
      {"illumina", {"illumina"}},
      {"innokas", {"innokas", "innokas yhtyma", "innokas group"}},
      {"insulet", {"insulet"}},
      {"i-sens", {"isens", "i sens"}},
      {"johnson-johnson", {"johnson johnson", "ethicon"}},
      {"lifepoint", {"lifepoint informatics", "lifepoint"}},
      {"medtronic", {"medtronic", "medtronic diabetes", "covidien"}},
      {"microdicom", {"microdicom"}},
      {"natus", {"natus medical", "natus"}},
      {"offis", {"offis"}},
      {"openclinic", {"openclinic ga", "openclinic"}},
      {"orthanc", {"orthanc", "osimis"}},
      {"philips",
       {"philips", "phillips", "koninklijke philips", "philips medical systems", "philips healthcare",
        "philips patient monitoring"}},
      {"roche", {"roche diagnostics", "roche"}},
      {"santesoft", {"santesoft"}},
      {"siemens", {"siemens", "siemens healthineers", "siemens healthcare", "siemens medical"}},
      {"silex", {"silex technology", "silex"}},
      {"smiths-medical", {"smiths medical"}},
      {"softneta", {"softneta"}},
      {"sooil", {"sooil developments", "sooil"}},
      {"spacelabs", {"spacelabs", "spacelabs healthcare", "spacelabs medical"}},
      {"st-jude", {"st jude medical", "st jude"}},
      {"stryker", {"stryker"}},
      {"swisslog", {"swisslog healthcare", "swisslog"}},
      {"vyaire", {"vyaire medical", "vyaire"}},
      {"welch-allyn", {"welch allyn"}},
      {"ypsomed", {"ypsomed"}},
      {"zoll", {"zoll", "zoll medical"}},
  };
  return *kAliases;
}

// Brands and their owners, matched either way: the same products appear under each name over the
// years (Welch Allyn under Hillrom, then Baxter; St. Jude under Abbott; Capsule under Qualcomm
// Life; Smiths Medical under ICU Medical).
const std::vector<std::vector<std::string>>& VendorGroups() {
  static const auto* kGroups = new std::vector<std::vector<std::string>>{
      {"baxter", "hillrom", "welch-allyn"},
      {"abbott", "st-jude"},
      {"icu-medical", "smiths-medical"},
  };
  return *kGroups;
}

// Legal forms dropped from the end of a vendor name the table does not know (N3).
bool LegalSuffix(std::string_view w) {
  static const std::set<std::string_view> kSuffixes = {
      "inc", "incorporated", "ltd", "limited", "co",   "corp", "corporation", "company", "ag", "gmbh", "oy", "bv",
      "sa",  "llc",          "plc", "kg",      "kgaa", "aa",   "spa",         "srl",     "nv", "ab",   "as", "se"};
  return kSuffixes.count(w) > 0;
}

// The alias key whose name is the whole of `folded` or its first words, else "".
std::string LookupVendor(std::string_view folded) {
  std::string best_key;
  size_t best = 0;
  for (const VendorAlias& a : Aliases()) {
    for (const char* name : a.names) {
      const std::string_view n(name);
      const bool whole = folded == n;
      const bool leading = folded.size() > n.size() && folded.substr(0, n.size()) == n && folded[n.size()] == ' ';
      if ((whole || leading) && n.size() > best) {
        best = n.size();
        best_key = a.key;
      }
    }
  }
  return best_key;
}

std::string StripLegal(std::string_view folded) {
  std::vector<std::string> words = Words(folded);
  while (words.size() > 1 && LegalSuffix(words.back())) words.pop_back();
  return absl::StrJoin(words, " ");
}

// Every folded name of a vendor key, for removing a vendor's name from the front of its product names.
std::vector<std::vector<std::string>> VendorNameWords(const std::vector<std::string>& keys) {
  std::vector<std::vector<std::string>> out;
  for (const VendorAlias& a : Aliases()) {
    if (std::find(keys.begin(), keys.end(), a.key) == keys.end()) continue;
    for (const char* name : a.names) out.push_back(Words(name));
  }
  for (const std::string& k : keys) out.push_back(Words(Fold(k, true)));
  return out;
}

// Words that name no product on their own (N11).
bool GenericWord(std::string_view w) {
  static const std::set<std::string_view> kGeneric = {
      "version", "current", "unify",       "promote", "ap",          "aw",      "aws",     "database", "db",
      "manager", "server",  "software",    "app",     "application", "system",  "systems", "monitor",  "monitors",
      "unit",    "device",  "devices",     "module",  "portal",      "patient", "client",  "service",  "services",
      "tool",    "viewer",  "workstation", "medical", "web",         "pump",    "pumps",   "the",      "and",
      "of",      "with",    "for",         "family",  "series",      "model"};
  return kGeneric.count(w) > 0;
}

// Words that cannot name a product on their own: three letters or fewer, or only common words.
bool GenericWords(const std::vector<std::string>& words) {
  size_t letters = 0;
  bool all_generic = true;
  for (const std::string& w : words) {
    letters += w.size();
    all_generic &= GenericWord(w);
  }
  return letters <= 3 || all_generic;
}

// N6: the vendor's or a brand's name in front of a product name ("BD Pyxis", "Philips IntelliVue",
// "Baxter Spectrum") is not part of it; unless the product is named after the vendor ("OpenClinic
// GA" of OpenClinic GA) and too little would be left.
void StripVendorWords(const std::vector<std::string>& vendor_keys, std::vector<std::string>* words) {
  const std::vector<std::vector<std::string>> names = VendorNameWords(vendor_keys);
  for (bool again = true; again && !words->empty();) {
    again = false;
    for (const auto& vendor_words : names) {
      const auto rest = static_cast<std::ptrdiff_t>(vendor_words.size());
      if (!vendor_words.empty() && vendor_words.size() < words->size() &&
          std::equal(vendor_words.begin(), vendor_words.end(), words->begin()) &&
          !GenericWords({words->begin() + rest, words->end()})) {
        words->erase(words->begin(), words->begin() + rest);
        again = true;
        break;
      }
    }
  }
}

bool HasDigit(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}
int CountDigits(std::string_view s) {
  return static_cast<int>(
      std::count_if(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }));
}
bool HasAlpha(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}
bool AllAlpha(std::string_view s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)); });
}

std::string Compact(std::string_view word) {
  std::string out;
  for (char c : word) {
    if (std::isalnum(static_cast<unsigned char>(c))) out.push_back(absl::ascii_toupper(static_cast<unsigned char>(c)));
  }
  return out;
}

bool ModelLike(std::string_view compact) {
  const int digits = CountDigits(compact);
  return digits >= 2 && (HasAlpha(compact) || digits >= 3);
}

// A word split on the separators model lists use; slashes are kept for expansion, hyphens for
// ranges ("MX400-MX850").
std::vector<std::string> RawWords(std::string_view text) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '-' || c == '.' || c == '_') {
      cur.push_back(c);
    } else if (!cur.empty()) {
      out.push_back(cur);
      cur.clear();
    }
  }
  if (!cur.empty()) out.push_back(cur);
  for (std::string& w : out) {
    while (!w.empty() && (w.back() == '.' || w.back() == '-' || w.back() == '/')) w.pop_back();
    while (!w.empty() && (w.front() == '-' || w.front() == '/')) w.erase(w.begin());
  }
  out.erase(std::remove(out.begin(), out.end(), std::string()), out.end());
  return out;
}

bool ParseRange(std::string_view word, ModelRange* out) {
  const size_t dash = word.find('-');
  if (dash == std::string_view::npos || word.find('-', dash + 1) != std::string_view::npos) return false;
  auto split = [](std::string_view part, std::string* prefix, int64_t* number) {
    size_t i = 0;
    while (i < part.size() && std::isalpha(static_cast<unsigned char>(part[i]))) ++i;
    *prefix = absl::AsciiStrToUpper(AsAbsl(part.substr(0, i)));
    const std::string_view digits = part.substr(i);
    if (digits.empty() || digits.size() > 9) return false;
    for (char c : digits) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
    }
    return absl::SimpleAtoi(AsAbsl(digits), number);
  };
  std::string p1, p2;
  int64_t n1 = 0, n2 = 0;
  if (!split(word.substr(0, dash), &p1, &n1) || !split(word.substr(dash + 1), &p2, &n2)) return false;
  // "MX400-MX850", "MX400-550"; not "R1-3" (revisions) nor "MMT-1715" (a model with a dash).
  if (p1.size() < 2 || (!p2.empty() && p2 != p1) || n2 <= n1) return false;
  out->prefix = p1;
  out->low = n1;
  out->high = n2;
  return true;
}

std::string WithoutParentheses(std::string_view text) {
  std::string bare;
  int depth = 0;
  for (char c : text) {
    if (c == '(') {
      ++depth;
    } else if (c == ')') {
      if (depth > 0) --depth;
    } else if (depth == 0) {
      bare.push_back(c);
    }
  }
  return bare;
}

void AddUnique(std::vector<std::string>* v, std::string s) {
  if (!s.empty() && std::find(v->begin(), v->end(), s) == v->end()) v->push_back(std::move(s));
}

}  // namespace

std::string FoldText(std::string_view text) { return Fold(text, true); }

std::vector<std::string> VendorKeys(std::string_view vendor) {
  std::set<std::string> keys;
  std::string text = RepairMojibake(vendor);
  // Parenthesised abbreviations are names of their own: "(BD)", "(GE)", "(Natus)".
  std::vector<std::string> candidates;
  std::string outside;
  int depth = 0;
  std::string inside;
  for (char c : text) {
    if (c == '(') {
      ++depth;
      inside.clear();
    } else if (c == ')' && depth > 0) {
      --depth;
      candidates.push_back(inside);
    } else if (depth > 0) {
      inside.push_back(c);
    } else {
      outside.push_back(c);
    }
  }
  const std::string whole = StripLegal(Fold(outside, true));
  bool known = false;
  if (std::string k = LookupVendor(whole); !k.empty()) {
    keys.insert(k);
    known = true;
  }
  // Several vendors in one name (N4): "Silex Technology and GE Healthcare".
  std::vector<std::string> parts;
  for (absl::string_view comma : absl::StrSplit(outside, ',')) {
    const std::string folded = Fold(AsStd(comma), true);
    std::vector<std::string> words = Words(folded);
    std::vector<std::string> cur;
    for (const std::string& w : words) {
      if (w == "and") {
        if (!cur.empty()) parts.push_back(absl::StrJoin(cur, " "));
        cur.clear();
      } else {
        cur.push_back(w);
      }
    }
    if (!cur.empty()) parts.push_back(absl::StrJoin(cur, " "));
  }
  for (const std::string& c : candidates) parts.push_back(Fold(c, true));
  std::vector<std::string> unknown;
  for (const std::string& part : parts) {
    const std::string stripped = StripLegal(part);
    if (std::string k = LookupVendor(stripped); !k.empty()) {
      keys.insert(k);
      known = true;
    } else if (!stripped.empty() && !LegalSuffix(stripped)) {
      unknown.push_back(stripped);
    }
  }
  if (!known) {
    if (!whole.empty()) keys.insert(whole);
    if (parts.size() > 1) keys.insert(unknown.begin(), unknown.end());
  }
  // Brands and owners.
  for (const auto& group : VendorGroups()) {
    if (std::any_of(group.begin(), group.end(), [&](const std::string& k) { return keys.count(k) > 0; })) {
      keys.insert(group.begin(), group.end());
    }
  }
  return std::vector<std::string>(keys.begin(), keys.end());
}

std::vector<std::string> ModelNumbers(std::string_view text) {
  std::vector<std::string> out;
  const std::vector<std::string> words = RawWords(text);
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string& w = words[i];
    if (w.find('.') != std::string::npos || w.find('_') != std::string::npos) continue;  // a version
    ModelRange range;
    if (ParseRange(w, &range)) {
      AddUnique(&out, range.prefix + std::to_string(range.low));
      AddUnique(&out, range.prefix + std::to_string(range.high));
      continue;
    }
    const std::vector<std::string> slash = absl::StrSplit(w, '/', absl::SkipEmpty());
    if (slash.empty()) continue;
    const std::string first = Compact(slash[0]);
    if (ModelLike(first)) AddUnique(&out, first);
    for (size_t k = 1; k < slash.size(); ++k) {
      const std::string part = Compact(slash[k]);
      if (part.empty()) continue;
      if (part.size() < first.size() && HasDigit(first) && std::isdigit(static_cast<unsigned char>(part[0])) &&
          ModelLike(first)) {
        // "M8001A/2A/3A", "865240/41/42", "MX800/700/600": the shorter one replaces the tail.
        AddUnique(&out, first.substr(0, first.size() - part.size()) + part);
      } else if (ModelLike(part)) {
        AddUnique(&out, part);
      }
    }
    // "ELI 380", "Model 8015": a number after a short letter word; the pair joined is a model too.
    if (i > 0 && slash.size() == 1 && AllAlpha(words[i - 1]) && words[i - 1].size() <= 5 &&
        CountDigits(first) == static_cast<int>(first.size()) && ModelLike(first)) {
      const std::string prefix = Compact(words[i - 1]);
      if (!GenericWord(absl::AsciiStrToLower(prefix))) AddUnique(&out, prefix + first);
    }
  }
  return out;
}

std::vector<ModelRange> ModelRanges(std::string_view text) {
  std::vector<ModelRange> out;
  for (const std::string& w : RawWords(text)) {
    ModelRange r;
    if (ParseRange(w, &r)) out.push_back(r);
  }
  return out;
}

CatalogProduct PrepareProduct(std::string_view tracking_id, const Product& product, bool affected) {
  CatalogProduct p;
  p.tracking_id = std::string(tracking_id);
  p.product_id = product.product_id;
  p.vendor = product.vendor;
  p.product_name = product.product_name;
  p.version_text = product.version_text;
  p.version = product.version;
  p.affected = affected;
  p.vendor_keys = VendorKeys(product.vendor);
  // N10: "Venue, not including Venue 40 R1-3 and Venue 50 R4-5".
  std::string name = product.product_name;
  std::string lower = absl::AsciiStrToLower(name);
  if (size_t at = lower.find("not including"); at != std::string::npos) {
    p.excluded_words = Words(Fold(name.substr(at + 13), true));
    name = name.substr(0, at);
  }
  // Parenthesised parts are qualifiers ("(WLAN only)", "(PICiX)"): not part of the name's words.
  p.words = Words(Fold(WithoutParentheses(name), true));
  // N6: the vendor's own name in front ("BD Pyxis", "Philips IntelliVue", "Baxter Spectrum").
  StripVendorWords(p.vendor_keys, &p.words);
  p.generic = GenericWords(p.words);
  // Models from the name only: labels repeat it with dates and serial numbers in prose ("distributed
  // before April 1, 2018"), which are not models.
  p.models = ModelNumbers(name);
  for (const std::string& m : product.model_numbers) AddUnique(&p.models, Compact(m));
  // A CPE (cpe:2.3:part:vendor:product:version:...) names the vendor and product once more, in its
  // own spelling ("b_braun", "spacecom_2"): its vendor is another key, its product's model numbers
  // are the product's too. (CISA's medical advisories give none; other publishers do.)
  if (const std::vector<std::string> cpe = absl::StrSplit(product.cpe, ':');
      cpe.size() >= 5 && cpe[0] == "cpe" && cpe[1] == "2.3") {
    auto words = [](std::string text) {
      std::replace(text.begin(), text.end(), '_', ' ');
      return text;
    };
    if (cpe[3] != "*" && cpe[3] != "-") {
      for (std::string& k : VendorKeys(words(cpe[3]))) {
        if (std::find(p.vendor_keys.begin(), p.vendor_keys.end(), k) == p.vendor_keys.end()) {
          p.vendor_keys.push_back(std::move(k));
        }
      }
    }
    if (cpe[4] != "*" && cpe[4] != "-") {
      for (const std::string& m : ModelNumbers(words(cpe[4]))) AddUnique(&p.models, m);
    }
  }
  p.ranges = ModelRanges(name);
  // Model numbers in the version field (Medtronic "MMT-1715 | MMT-1754", Philips "882470 Gemini TF
  // 16", Boston Scientific "3120"): the field then names which models, not which versions. Taken from
  // free text, and from lists of exact values when each is a model's shape (a hyphen, or three
  // digits, and no dot); never from ranges ("<= L81", "<= D25" are revisions) or dates.
  const VersionConstraint& v = product.version;
  bool models_in_version = false;
  if (v.kind == VersionConstraint::Kind::kUnparsed) {
    models_in_version = v.why_unparsed != "date";
  } else if (v.kind == VersionConstraint::Kind::kSet && !product.version_is_range) {
    models_in_version = true;
    for (const VersionInterval& in : v.intervals) {
      const std::string point = in.lower ? in.lower->version : "";
      const bool is_point = in.lower && in.upper && in.lower->version == in.upper->version;
      if (!is_point || point.find('.') != std::string::npos ||
          (point.find('-') == std::string::npos && CountDigits(point) < 3)) {
        models_in_version = false;
      }
    }
  }
  if (models_in_version) {
    for (const std::string& m : ModelNumbers(product.version_text)) {
      if (m.find('-') != std::string::npos || CountDigits(m) >= 3) AddUnique(&p.version_models, m);
    }
  }
  return p;
}

std::vector<CatalogProduct> PrepareAdvisory(const Advisory& advisory) {
  std::set<std::string> affected;
  for (const Vulnerability& v : advisory.vulnerabilities) {
    for (const auto& [status, ids] : v.product_status) {
      if (status == "known_affected" || status == "first_affected" || status == "last_affected" ||
          status == "under_investigation") {
        affected.insert(ids.begin(), ids.end());
      }
    }
  }
  std::vector<CatalogProduct> out;
  out.reserve(advisory.products.size());
  for (const Product& p : advisory.products) {
    out.push_back(PrepareProduct(advisory.tracking_id, p, affected.count(p.product_id) > 0));
  }
  return out;
}

int MatchRank(std::string_view match) {
  if (match == "exact_version") return 3;
  if (match == "version_range") return 2;
  if (match == "product_only") return 1;
  return 0;
}

std::string ObservedVersion(std::string_view raw) {
  std::string s(absl::StripAsciiWhitespace(AsAbsl(raw)));
  // DICOM implementation version names of DCMTK: "OFFIS_DCMTK_" and the package version number
  // (dcuid.h: 367 for 3.6.7, 3610 for 3.6.10).
  constexpr std::string_view kDcmtk = "OFFIS_DCMTK_";
  if (s.size() > kDcmtk.size() + 2 && absl::StartsWithIgnoreCase(s, AsAbsl(kDcmtk))) {
    const std::string digits = s.substr(kDcmtk.size());
    if (CountDigits(digits) == static_cast<int>(digits.size())) {
      return absl::StrCat(digits.substr(0, 1), ".", digits.substr(1, 1), ".", digits.substr(2));
    }
  }
  // A label before the number: "FW 7.0.3", "SW 7.0.3b", "Firmware: 2.1".
  const std::string lower = absl::AsciiStrToLower(s);
  for (std::string_view label : {"firmware", "software", "fw", "sw"}) {
    if (lower.size() > label.size() && lower.compare(0, label.size(), label) == 0) {
      const char next = lower[label.size()];
      if (next == ' ' || next == ':' || next == '-' || next == '_') {
        return std::string(absl::StripLeadingAsciiWhitespace(absl::StripPrefix(s.substr(label.size()), ":")));
      }
    }
  }
  return s;
}

bool SplitProductVersion(std::string_view text, std::string* product, std::string* version) {
  size_t i = 0;
  while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
  if (i < 4 || i == text.size()) return false;
  const std::string letters = absl::AsciiStrToLower(AsAbsl(text.substr(0, i)));
  for (std::string_view label : {"version", "firmware", "software", "release", "build", "revision"}) {
    if (letters == label) return false;
  }
  size_t j = i;
  if (text[j] == ' ' || text[j] == '_' || text[j] == '-') ++j;
  if ((text[j] == 'v' || text[j] == 'V') && j + 1 < text.size()) ++j;
  if (j >= text.size() || !std::isdigit(static_cast<unsigned char>(text[j]))) return false;
  for (size_t k = j; k < text.size(); ++k) {
    const char c = text[k];
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '_' && c != '-') return false;
  }
  *product = std::string(text.substr(0, i));
  *version = std::string(text.substr(j));
  return true;
}

Catalog::Catalog(std::vector<CatalogProduct> products) : products_(std::move(products)) {
  for (size_t i = 0; i < products_.size(); ++i) {
    for (const std::string& k : products_[i].vendor_keys) by_vendor_[k].push_back(i);
    if (!products_[i].generic) by_name_[absl::StrJoin(products_[i].words, " ")].push_back(i);
  }
}

namespace {

struct PreparedDevice {
  std::set<std::string> vendor_keys;
  struct Model {
    std::string raw;
    std::vector<std::string> words;
    std::vector<std::string> numbers;
  };
  std::vector<Model> models;
  std::vector<std::string> versions;
};

bool Intersects(const std::vector<std::string>& a, const std::vector<std::string>& b, std::string* which) {
  for (const std::string& x : a) {
    if (std::find(b.begin(), b.end(), x) != b.end()) {
      *which = x;
      return true;
    }
  }
  return false;
}

bool InRange(const std::vector<ModelRange>& ranges, const std::vector<std::string>& numbers) {
  for (const std::string& n : numbers) {
    size_t i = 0;
    while (i < n.size() && std::isalpha(static_cast<unsigned char>(n[i]))) ++i;
    int64_t value = 0;
    if (i == n.size() || !absl::SimpleAtoi(n.substr(i), &value)) continue;
    for (const ModelRange& r : ranges) {
      if (n.substr(0, i) == r.prefix && value >= r.low && value <= r.high) return true;
    }
  }
  return false;
}

// How one device model relates to a product, or "" when it does not match.
std::string ProductBasis(const CatalogProduct& p, const PreparedDevice::Model& m, bool* via_version_models) {
  *via_version_models = false;
  if (!p.excluded_words.empty() && ContainsWords(m.words, p.excluded_words)) return "";
  std::string which;
  if (Intersects(m.numbers, p.models, &which)) return "model_number";
  if (Intersects(m.numbers, p.version_models, &which)) {
    *via_version_models = true;
    return "model_number";
  }
  if (!p.ranges.empty() && InRange(p.ranges, m.numbers)) return "model_range";
  if (p.generic) return "";
  // Both name models and none agree: different products of one line (MX40 and MX800).
  if (!m.numbers.empty() && !p.models.empty()) return "";
  if (m.words == p.words) return "product_name";
  if (ContainsWords(m.words, p.words)) return "product_name";  // the device says more: "Alaris PC Unit 8015"
  if (ContainsWords(p.words, m.words)) {
    // The device names only the product line ("Centricity", "IntelliVue"): a weaker basis, and
    // only for a name that could not be anything else.
    size_t letters = 0;
    for (const std::string& w : m.words) letters += w.size();
    if (letters >= 5 && !GenericWords(m.words)) return "product_family";
  }
  return "";
}

// The version verdict for a matched product from the versions given.
bool Decide(const CatalogProduct& p, const std::vector<std::string>& versions, bool via_version_models, Finding* f) {
  if (!p.version_models.empty() || via_version_models) {
    f->match = "product_only";
    f->reason = "models_in_version";
    return true;
  }
  if (versions.empty()) {
    f->match = "product_only";
    f->reason = p.version.kind == VersionConstraint::Kind::kAll ? "all" : "no_version";
    return true;
  }
  std::string unknown_reason, unknown_version;
  bool outside = false;
  for (const std::string& raw : versions) {
    const std::string v = ObservedVersion(raw);
    const VersionVerdict verdict = MatchVersion(p.version, v);
    if (verdict.match == VersionMatch::kInside) {
      // Exact when one of the intervals it falls in is a single version.
      bool exact = false;
      for (const VersionInterval& in : p.version.intervals) {
        if (in.lower && in.upper && in.lower->inclusive && in.upper->inclusive &&
            CompareVersions(in.lower->version, in.upper->version).order == Order::kEqual &&
            CompareVersions(v, in.lower->version).order == Order::kEqual) {
          exact = true;
        }
      }
      const std::string match = exact ? "exact_version" : "version_range";
      if (MatchRank(match) > MatchRank(f->match)) {
        f->match = match;
        f->reason.clear();
        f->observed_version = raw;
      }
    } else if (verdict.match == VersionMatch::kOutside) {
      outside = true;
    } else if (unknown_reason.empty()) {
      unknown_reason = verdict.reason;
      unknown_version = raw;
    }
  }
  if (!f->match.empty()) return true;
  if (unknown_reason.empty() && outside) return false;  // every version it gave is outside: not affected
  f->match = "product_only";
  f->reason = unknown_reason;
  f->observed_version = unknown_version;
  return true;
}

}  // namespace

std::vector<Finding> Catalog::Match(const DeviceIdentity& device) const {
  PreparedDevice d;
  for (const std::string& v : device.vendors) {
    for (std::string& k : VendorKeys(v)) d.vendor_keys.insert(std::move(k));
  }
  // Versions that carry their product's name ("CENTRICITY5.0") give both.
  std::vector<std::string> models = device.models;
  std::vector<std::string> versions = device.versions;
  for (const std::string& v : device.versions) {
    std::string product, version;
    if (SplitProductVersion(v, &product, &version)) {
      models.push_back(product);
      versions.push_back(version);
    }
  }
  for (const std::string& m : models) {
    PreparedDevice::Model model;
    model.raw = m;
    model.words = Words(Fold(WithoutParentheses(m), true));
    // The vendor's name in front of a model ("Philips IntelliVue MX800") is not part of it.
    StripVendorWords(std::vector<std::string>(d.vendor_keys.begin(), d.vendor_keys.end()), &model.words);
    model.numbers = ModelNumbers(m);
    if (!model.words.empty() || !model.numbers.empty()) d.models.push_back(std::move(model));
  }
  std::map<std::string, Finding> best;  // tracking id -> finding
  auto offer = [&](Finding f) {
    const std::string& id = products_[f.product].tracking_id;
    auto it = best.find(id);
    if (it == best.end() || MatchRank(f.match) > MatchRank(it->second.match)) best[id] = std::move(f);
  };
  // Products of the device's vendors, by model or name.
  std::set<size_t> candidates;
  for (const std::string& k : d.vendor_keys) {
    if (auto it = by_vendor_.find(k); it != by_vendor_.end()) candidates.insert(it->second.begin(), it->second.end());
  }
  for (size_t i : candidates) {
    const CatalogProduct& p = products_[i];
    if (!p.affected) continue;
    for (const PreparedDevice::Model& m : d.models) {
      bool via_version_models = false;
      const std::string basis = ProductBasis(p, m, &via_version_models);
      if (basis.empty()) continue;
      Finding f;
      f.product = i;
      f.basis = basis;
      f.observed_model = m.raw;
      if (Decide(p, versions, via_version_models, &f)) offer(std::move(f));
    }
  }
  // Software a device runs, by its exact name whoever made the device (a DICOM toolkit in a
  // modality, an embedded web server): the versions are those of the same protocol.
  for (const DeviceIdentity::Software& s : device.software) {
    const std::string key = absl::StrJoin(Words(Fold(s.name, true)), " ");
    auto it = by_name_.find(key);
    if (it == by_name_.end() || key.size() < 5) continue;
    for (size_t i : it->second) {
      const CatalogProduct& p = products_[i];
      if (!p.affected) continue;
      Finding f;
      f.product = i;
      f.basis = "software";
      f.observed_model = s.name;
      if (Decide(p, s.versions, false, &f)) offer(std::move(f));
    }
  }
  std::vector<Finding> out;
  for (auto& [id, f] : best) out.push_back(std::move(f));
  std::stable_sort(out.begin(), out.end(),
                   [](const Finding& a, const Finding& b) { return MatchRank(a.match) > MatchRank(b.match); });
  return out;
}

}  // namespace auscult::collector::advisories
