// Load and faults between sensors and the collector (issue 8): many sensors streaming at once are
// all served and applied exactly once.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <barrier>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "auscult/v1/ingest.grpc.pb.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

google::protobuf::Timestamp At(int64_t seconds) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  return t;
}

// Sensor i's batch `sequence`: its own device and one flow of 1000 bytes to a shared server.
v1::ObservationBatch Batch(int i, uint64_t sequence) {
  constexpr int64_t kT0 = 1700000000;
  v1::ObservationBatch b;
  b.mutable_sensor()->set_sensor_id(absl::StrCat("wing-", i));
  b.mutable_sensor()->set_site("load");
  b.set_epoch(1);
  b.set_sequence(sequence);
  v1::DeviceObservation* d = b.add_devices();
  d->set_mac(absl::StrFormat("02:00:00:01:%02x:%02x", i / 256, i % 256));
  *d->mutable_first_seen() = At(kT0);
  *d->mutable_last_seen() = At(kT0 + 1);
  v1::AddressObservation* a = d->add_addresses();
  a->set_ip(absl::StrFormat("10.50.%d.%d", i / 250, i % 250 + 1));
  a->set_source(v1::ADDRESS_SOURCE_ARP);
  *a->mutable_first_seen() = At(kT0);
  *a->mutable_last_seen() = At(kT0 + 1);
  a->set_locality(v1::LOCALITY_LOCAL);
  v1::FlowObservation* f = b.add_flows();
  f->set_flow_id(sequence);
  f->mutable_initiator()->set_ip(a->ip());
  f->mutable_initiator()->set_port(40000);
  f->mutable_responder()->set_ip("10.50.255.1");
  f->mutable_responder()->set_port(443);
  f->set_transport(6);
  f->set_application("tls");
  f->mutable_to_responder()->set_packets(10);
  f->mutable_to_responder()->set_bytes(1000);
  *f->mutable_first_seen() = At(kT0 + static_cast<int64_t>(sequence));
  *f->mutable_last_seen() = At(kT0 + static_cast<int64_t>(sequence) + 1);
  f->set_state(v1::FLOW_STATE_CLOSED);
  return b;
}

TEST_F(CollectorTest, TwoHundredSensorsStreamAtOnceAndAllIsAppliedOnce) {
  constexpr int kSensors = 200;
  // Every sensor opens its own connection and stream and has its first batch acknowledged; only
  // when all 200 streams are open does any send its second batch, and then its first again.
  std::barrier all_open(kSensors);
  std::vector<std::vector<v1::BatchAck::Result>> results(kSensors);
  std::vector<std::string> errors(kSensors);
  std::vector<std::thread> sensors;
  for (int i = 0; i < kSensors; ++i) {
    sensors.emplace_back([&, i] {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);  // a connection of its own, as a real sensor
      auto stub = v1::Ingest::NewStub(grpc::CreateCustomChannel(target(), grpc::InsecureChannelCredentials(), args));
      grpc::ClientContext ctx;
      ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
      auto stream = stub->Stream(&ctx);
      v1::BatchAck ack;
      bool ok = stream->Write(Batch(i, 1)) && stream->Read(&ack);
      if (ok) results[i].push_back(ack.result());
      all_open.arrive_and_wait();
      for (uint64_t sequence : {2, 1}) {
        ok = ok && stream->Write(Batch(i, sequence)) && stream->Read(&ack);
        if (ok) results[i].push_back(ack.result());
      }
      stream->WritesDone();
      const grpc::Status s = stream->Finish();
      if (!s.ok()) errors[i] = absl::StrCat(s.error_code(), ": ", s.error_message());
    });
  }
  for (std::thread& t : sensors) t.join();
  for (int i = 0; i < kSensors; ++i) {
    EXPECT_EQ(errors[i], "") << "sensor " << i;
    EXPECT_EQ(results[i], (std::vector<v1::BatchAck::Result>{v1::BatchAck::RESULT_APPLIED, v1::BatchAck::RESULT_APPLIED,
                                                             v1::BatchAck::RESULT_DUPLICATE}))
        << "sensor " << i;
  }
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM sensors"), absl::StrCat(kSensors));
  EXPECT_EQ(db_->Scalar("SELECT count(*) FROM devices WHERE mac IS NOT NULL"), absl::StrCat(kSensors));
  // Two flows per sensor, counted once each though one batch came twice.
  EXPECT_EQ(db_->Scalar("SELECT count(*) || ' ' || sum(bytes_to_dst) FROM flows"),
            absl::StrCat(2 * kSensors, " ", 2 * kSensors * 1000));
  EXPECT_EQ(db_->Scalar("SELECT sum(flows) || ' ' || sum(bytes_to_dst) FROM graph_edges"),
            absl::StrCat(2 * kSensors, " ", 2 * kSensors * 1000));
}

}  // namespace
}  // namespace auscult::testing
