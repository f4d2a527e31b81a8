#ifndef AUSCULT_COMMON_JSON_WRITER_H_
#define AUSCULT_COMMON_JSON_WRITER_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace auscult {

// A small streaming JSON writer for the CLI's --json output: keys in the order written, 64-bit
// integers exact, strings escaped per RFC 8259 (control characters as \u00XX; invalid UTF-8 is
// replaced by U+FFFD so the output always parses).
class JsonWriter {
 public:
  explicit JsonWriter(bool pretty = false) : pretty_(pretty) {}

  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& UInt(uint64_t value);
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();

  const std::string& str() const { return out_; }

 private:
  void BeforeValue();
  void Newline();
  void AppendEscaped(std::string_view s);

  struct Level {
    bool is_object;
    int count;
  };
  std::string out_;
  std::vector<Level> stack_;
  bool after_key_ = false;
  bool pretty_;
};

}  // namespace auscult

#endif  // AUSCULT_COMMON_JSON_WRITER_H_
