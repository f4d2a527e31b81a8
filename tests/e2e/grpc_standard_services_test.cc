// The collector speaks the standard gRPC health and reflection protocols, so that orchestrators,
// load balancers and grpcurl-style tools work against it without Auscult's .proto files.
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "tests/e2e/e2e_util.h"

namespace auscult::testing {
namespace {

TEST_F(CollectorTest, HealthServiceSaysServing) {
  auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  for (const std::string service : {"", "auscult.v1.Query", "auscult.v1.Ingest"}) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::health::v1::HealthCheckRequest req;
    req.set_service(service);
    grpc::health::v1::HealthCheckResponse resp;
    const grpc::Status s = stub->Check(&ctx, req, &resp);
    ASSERT_TRUE(s.ok()) << "'" << service << "': " << s.error_message();
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING) << "'" << service << "'";
  }
  // A service the collector does not have is NOT_FOUND, as the protocol says.
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckRequest req;
  req.set_service("no.such.Service");
  grpc::health::v1::HealthCheckResponse resp;
  EXPECT_EQ(stub->Check(&ctx, req, &resp).error_code(), grpc::StatusCode::NOT_FOUND);
}

TEST_F(CollectorTest, ReflectionListsTheServices) {
  auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(
      grpc::CreateChannel(target(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&ctx);
  grpc::reflection::v1alpha::ServerReflectionRequest req;
  req.set_list_services("");
  ASSERT_TRUE(stream->Write(req));
  grpc::reflection::v1alpha::ServerReflectionResponse resp;
  ASSERT_TRUE(stream->Read(&resp));
  std::set<std::string> names;
  for (const auto& s : resp.list_services_response().service()) names.insert(s.name());
  EXPECT_TRUE(names.count("auscult.v1.Query")) << "services listed: " << names.size();
  EXPECT_TRUE(names.count("auscult.v1.Ingest"));
  EXPECT_TRUE(names.count("grpc.health.v1.Health"));
  // And a symbol's file: what grpcurl fetches to call a method.
  req.set_file_containing_symbol("auscult.v1.Query");
  ASSERT_TRUE(stream->Write(req));
  ASSERT_TRUE(stream->Read(&resp));
  EXPECT_FALSE(resp.has_error_response()) << resp.error_response().error_message();
  // The file descriptor (field 4, outside the subset this test declares) came back.
  EXPECT_GT(resp.GetReflection()->GetUnknownFields(resp).field_count(), 0);
  stream->WritesDone();
  EXPECT_TRUE(stream->Finish().ok());
}

}  // namespace
}  // namespace auscult::testing
