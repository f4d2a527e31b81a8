#include "common/ip_address.h"

#include <gtest/gtest.h>

#include "common/mac_address.h"

namespace auscult {
namespace {

TEST(IpAddress, RoundTripsAndClassifies) {
  for (const char* text : {"10.0.0.1", "255.255.255.255", "0.0.0.0", "fe80::1", "2001:db8::8a2e:370:7334", "::"}) {
    auto a = IpAddress::Parse(text);
    ASSERT_TRUE(a) << text;
    EXPECT_EQ(a->ToString(), text);
  }
  EXPECT_TRUE(IpAddress::Parse("224.0.0.251")->IsMulticast());
  EXPECT_TRUE(IpAddress::Parse("ff02::fb")->IsMulticast());
  EXPECT_TRUE(IpAddress::Parse("169.254.3.4")->IsLinkLocal());
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->IsLinkLocal());
  EXPECT_TRUE(IpAddress::Parse("0.0.0.0")->IsUnspecified());
  EXPECT_TRUE(IpAddress::Parse("255.255.255.255")->IsLimitedBroadcast());
  EXPECT_FALSE(IpAddress::Parse("10.0.0.1")->IsMulticast());
  // The same bytes in different families are different addresses.
  EXPECT_NE(*IpAddress::Parse("0.0.0.0"), *IpAddress::Parse("::"));
}

TEST(IpAddress, RejectsGarbage) {
  for (const char* text : {"", "10.0.0", "10.0.0.256", "1::2::3", "not an address", "10.0.0.1 ",
                           "fe80::1%eth0xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}) {
    EXPECT_FALSE(IpAddress::Parse(text)) << text;
  }
}

TEST(MacAddress, ParsesFormatsAndClassifies) {
  auto m = MacAddress::Parse("00-0C-29-B5-B6-48");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->ToString(), "00:0c:29:b5:b6:48");
  EXPECT_FALSE(m->IsGroup());
  EXPECT_FALSE(m->IsLocallyAdministered());
  EXPECT_TRUE(MacAddress::Parse("01:00:5e:00:00:fb")->IsGroup());
  EXPECT_TRUE(MacAddress::Parse("da:a1:19:00:00:01")->IsLocallyAdministered());
  EXPECT_TRUE(MacAddress::Parse("ff:ff:ff:ff:ff:ff")->IsBroadcast());
  for (const char* bad : {"", "00:0c:29:b5:b6", "00:0c:29:b5:b6:4g", "000c29b5b648", "00:0c:29:b5:b6:48:00",
                          "aa-bb:cc-dd:ee-ff", "00.0c.29.b5.b6.48"}) {
    EXPECT_FALSE(MacAddress::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace auscult

#include "common/cidr.h"

namespace auscult {
namespace {

TEST(Cidr, ParsesAndContains) {
  const auto net = Cidr::Parse("10.20.1.7/16");
  ASSERT_TRUE(net);
  EXPECT_EQ(net->ToString(), "10.20.0.0/16");
  EXPECT_TRUE(net->Contains(*IpAddress::Parse("10.20.255.1")));
  EXPECT_FALSE(net->Contains(*IpAddress::Parse("10.21.0.1")));
  EXPECT_FALSE(net->Contains(*IpAddress::Parse("::a14:1")));  // other family
  const auto v6 = Cidr::Parse("fd00:1::/64");
  ASSERT_TRUE(v6);
  EXPECT_TRUE(v6->Contains(*IpAddress::Parse("fd00:1::abcd:1")));
  EXPECT_FALSE(v6->Contains(*IpAddress::Parse("fd00:2::1")));
  EXPECT_EQ(Cidr::Parse("192.0.2.1")->ToString(), "192.0.2.1/32");
  EXPECT_EQ(Cidr::Parse("0.0.0.0/0")->ToString(), "0.0.0.0/0");
  for (const char* bad : {"", "10.0.0.0/33", "10.0.0.0/-1", "10.0.0.0/x", "fd00::/129", "host/8"}) {
    EXPECT_FALSE(Cidr::Parse(bad)) << bad;
  }
}

}  // namespace
}  // namespace auscult
