#include "common/json_writer.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <gtest/gtest.h>

#include <cmath>

namespace auscult {
namespace {

google::protobuf::Value Parse(const std::string& text) {
  google::protobuf::Value v;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &v).ok()) << text;
  return v;
}

// Whatever bytes go in, a JSON parser (protobuf's) reads the output back, and valid text survives.
TEST(JsonWriter, OutputParsesForHostileStrings) {
  const std::string nasty[] = {"plain",
                               "quote \" and backslash \\",
                               "line\nbreak\ttab\r",
                               std::string("nul\0byte", 8),
                               "\x01\x1f\x7f control",
                               "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
                               "bad \xff\xfe utf8",
                               "truncated \xe2\x82",
                               "overlong \xc0\xaf",
                               "surrogate \xed\xa0\x80"};
  for (bool pretty : {false, true}) {
    JsonWriter j(pretty);
    j.BeginArray();
    for (const std::string& s : nasty) j.BeginObject().Key(s).String(s).EndObject();
    j.EndArray();
    const auto v = Parse(j.str());
    ASSERT_EQ(v.list_value().values_size(), static_cast<int>(std::size(nasty)));
    EXPECT_EQ(v.list_value().values(0).struct_value().fields().at("plain").string_value(), "plain");
    EXPECT_EQ(v.list_value().values(5).struct_value().fields().begin()->second.string_value(), nasty[5]);
  }
}

TEST(JsonWriter, NumbersAndNesting) {
  JsonWriter j;
  j.BeginObject();
  j.Key("big").UInt(UINT64_MAX);
  j.Key("neg").Int(-42);
  j.Key("x").Double(0.5);
  j.Key("nan").Double(std::nan(""));
  j.Key("empty").BeginArray().EndArray();
  j.Key("obj").BeginObject().EndObject();
  j.Key("t").Bool(true);
  j.Key("n").Null();
  j.EndObject();
  EXPECT_EQ(j.str(),
            R"({"big":18446744073709551615,"neg":-42,"x":0.5,"nan":null,"empty":[],"obj":{},"t":true,"n":null})");
}

}  // namespace
}  // namespace auscult
