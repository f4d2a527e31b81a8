#include "sensor/export/spool.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "sensor/export/batch_transport.h"
#include "tests/support/test_support.h"

namespace auscult::sensor {
namespace {

namespace fs = std::filesystem;

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char dir[] = "/tmp/auscult-spool-test.XXXXXX";
    ASSERT_NE(mkdtemp(dir), nullptr);
    dir_ = std::string(dir) + "/spool";  // Open creates it
  }
  void TearDown() override { fs::remove_all(fs::path(dir_).parent_path()); }

  static std::unique_ptr<v1::ObservationBatch> Batch(uint64_t epoch, uint64_t sequence, size_t padding = 0) {
    auto b = std::make_unique<v1::ObservationBatch>();
    b->mutable_sensor()->set_sensor_id("wing-1");
    b->set_epoch(epoch);
    b->set_sequence(sequence);
    b->mutable_sensor()->set_hostname(std::string(padding, 'x'));
    return b;
  }
  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    for (const auto& e : fs::directory_iterator(dir_)) {
      if (e.path().extension() == ".batch") out.push_back(e.path().filename().string());
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
};

TEST_F(SpoolTest, StoresReadsAndForgetsBatchesAndFindsThemAgainInSendingOrder) {
  {
    auto spool = Spool::Open(dir_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_TRUE((*spool)->recovered().empty());
    EXPECT_EQ(fs::status(dir_).permissions() & fs::perms::all, fs::perms::owner_all);
    // Sequence 10 sorts after 9 (zero-padded names), and an older epoch before a newer one.
    for (auto [epoch, sequence] : {std::pair{7u, 9u}, {7u, 10u}, {5u, 2u}, {7u, 1u}}) {
      auto written = (*spool)->Write(*Batch(epoch, sequence, 100));
      ASSERT_TRUE(written.ok()) << written.status();
      EXPECT_GT(written->bytes, 100u);
    }
    auto read = (*spool)->Read(Spool::Entry{7, 9, 0});
    ASSERT_TRUE(read.ok()) << read.status();
    EXPECT_EQ((*read)->sequence(), 9u);
    EXPECT_EQ((*read)->sensor().sensor_id(), "wing-1");
    (*spool)->Remove(Spool::Entry{7, 1, 0});
    (*spool)->Remove(Spool::Entry{7, 1, 0});  // twice: not an error
    EXPECT_FALSE((*spool)->Read(Spool::Entry{7, 1, 0}).ok());
    // A second process on the same folder is refused while this one holds it.
    auto second = Spool::Open(dir_);
    ASSERT_FALSE(second.ok());
    EXPECT_NE(second.status().message().find("in use by another"), std::string::npos) << second.status();
  }
  // A write cut short by a crash, and a stray file.
  std::ofstream(dir_ + "/00000000000000000007-00000000000000000011.batch.tmp") << "half";
  std::ofstream(dir_ + "/notes.txt") << "hello";
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok()) << spool.status();
  std::vector<std::pair<uint64_t, uint64_t>> order;
  for (const Spool::Entry& e : (*spool)->recovered()) order.emplace_back(e.epoch, e.sequence);
  EXPECT_EQ(order, (std::vector<std::pair<uint64_t, uint64_t>>{{5, 2}, {7, 9}, {7, 10}}));
  EXPECT_FALSE(fs::exists(dir_ + "/00000000000000000007-00000000000000000011.batch.tmp"));
  EXPECT_TRUE(fs::exists(dir_ + "/notes.txt"));
}

TEST_F(SpoolTest, DamagedFileIsAnErrorNotACrash) {
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Write(*Batch(1, 1)).ok());
  std::ofstream(dir_ + "/00000000000000000001-00000000000000000001.batch", std::ios::trunc) << "\xff\xff\xff garbage";
  auto read = (*spool)->Read(Spool::Entry{1, 1, 0});
  EXPECT_FALSE(read.ok());
  // A file whose name and contents disagree is not sent under the wrong id.
  ASSERT_TRUE((*spool)->Write(*Batch(1, 2)).ok());
  fs::rename(dir_ + "/00000000000000000001-00000000000000000002.batch",
             dir_ + "/00000000000000000001-00000000000000000003.batch");
  read = (*spool)->Read(Spool::Entry{1, 3, 0});
  ASSERT_FALSE(read.ok());
  EXPECT_NE(read.status().message().find("holds batch 1-2"), std::string::npos) << read.status();
}

// Nothing listens on the collector's port: every batch waits in the spool.
GrpcTransportOptions Unreachable(Spool* spool, uint64_t max_bytes, bool drop) {
  GrpcTransportOptions o;
  o.target = absl::StrCat("127.0.0.1:", testing::FreeTcpPort());
  o.insecure = true;
  o.connect_timeout = absl::Milliseconds(100);
  o.max_unacknowledged = 2;
  o.send_timeout = absl::Milliseconds(500);
  o.spool = spool;
  o.spool_max_bytes = max_bytes;
  o.drop_when_spool_full = drop;
  return o;
}

TEST_F(SpoolTest, LiveSensorDropsTheOldestUnsentBatchesWhenTheSpoolIsFullAndCountsThem) {
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  const uint64_t one = Batch(1, 1, 1000)->ByteSizeLong();
  auto transport = MakeGrpcTransport(Unreachable(spool->get(), 5 * one, /*drop=*/true));
  ASSERT_TRUE(transport.ok()) << transport.status();
  for (uint64_t s = 1; s <= 12; ++s) ASSERT_TRUE((*transport)->Send(Batch(1, s, 1000)).ok());
  const TransportStats stats = (*transport)->stats();
  EXPECT_EQ(stats.batches_sent, 12u);
  EXPECT_EQ(stats.spool_dropped, 7u);
  EXPECT_EQ(stats.spool_batches, 5u);
  EXPECT_EQ(stats.spool_bytes, 5 * one);
  // The newest are kept (a stream attempt may have had the first two on the wire: those stay too).
  const std::vector<std::string> files = Files();
  ASSERT_EQ(files.size(), 5u);
  EXPECT_EQ(files.back(), "00000000000000000001-00000000000000000012.batch");
  EXPECT_EQ(files[files.size() - 3], "00000000000000000001-00000000000000000010.batch");
  const absl::Status closed = (*transport)->Close(absl::Milliseconds(200));
  EXPECT_NE(closed.message().find("they stay in spool"), std::string::npos) << closed;
}

TEST_F(SpoolTest, FileReplayWaitsForRoomInsteadOfDropping) {
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  const uint64_t one = Batch(1, 1, 1000)->ByteSizeLong();
  auto transport = MakeGrpcTransport(Unreachable(spool->get(), 3 * one, /*drop=*/false));
  ASSERT_TRUE(transport.ok()) << transport.status();
  for (uint64_t s = 1; s <= 3; ++s) ASSERT_TRUE((*transport)->Send(Batch(1, s, 1000)).ok());
  const absl::Status fourth = (*transport)->Send(Batch(1, 4, 1000));
  EXPECT_TRUE(absl::IsDeadlineExceeded(fourth)) << fourth;
  EXPECT_EQ((*transport)->stats().spool_dropped, 0u);
  EXPECT_EQ(Files().size(), 3u);
}

TEST_F(SpoolTest, BatchesOfAnEarlierRunAreQueuedFirstAndTheBoundHoldsForThemToo) {
  uint64_t one = 0;
  {
    auto spool = Spool::Open(dir_);
    ASSERT_TRUE(spool.ok());
    for (uint64_t s = 1; s <= 6; ++s) {
      auto w = (*spool)->Write(*Batch(1, s, 1000));
      ASSERT_TRUE(w.ok());
      one = w->bytes;
    }
  }
  auto spool = Spool::Open(dir_);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ((*spool)->recovered().size(), 6u);
  auto transport = MakeGrpcTransport(Unreachable(spool->get(), 4 * one, /*drop=*/true));
  ASSERT_TRUE(transport.ok());
  const TransportStats stats = (*transport)->stats();
  EXPECT_EQ(stats.spool_recovered, 6u);
  EXPECT_EQ(stats.spool_dropped, 2u);
  EXPECT_EQ(stats.spool_batches, 4u);
  EXPECT_EQ(Files().front(), "00000000000000000001-00000000000000000003.batch");
}

}  // namespace
}  // namespace auscult::sensor
