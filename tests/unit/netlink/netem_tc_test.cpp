// netlab's netem requests carry the options iproute2's tc sends for the same
// values. This kernel has no netem, so the proof is by bytes: for each case,
// tests/testdata/netem/cases.json holds tc's RTM_NEWQDISC request (its
// handle, parent, kind and TCA_OPTIONS payload), captured with strace by
// tests/testdata/netem/capture; netlab's encoder must produce the same.
#include <gtest/gtest.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "netlink/qdisc.hpp"
#include "util/strings.hpp"

namespace netlab::nl {
namespace {

std::string hex(const void* data, size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += fmt::format("{:02x}", static_cast<const unsigned char*>(data)[i]);
  return out;
}

TEST(NetemLikeTc, EveryCapturedRequestHasTheSameNetemOptions) {
  auto data = nlohmann::json::parse(read_file(std::string(NETLAB_TESTDATA_DIR) + "/netem/cases.json"));
  ASSERT_GE(data["cases"].size(), 20u);
  for (const auto& c : data["cases"]) {
    SCOPED_TRACE(c["name"].get<std::string>() + ": " + c["tc"].get<std::string>());
    const auto& i = c["impairment"];
    Impairment imp;
    imp.delay_ns = i.value("delay_ns", uint64_t{0});
    imp.jitter_ns = i.value("jitter_ns", uint64_t{0});
    imp.loss_percent = i.value("loss", 0.0);
    imp.duplicate_percent = i.value("duplicate", 0.0);
    imp.corrupt_percent = i.value("corrupt", 0.0);
    imp.reorder_percent = i.value("reorder", 0.0);
    imp.rate_bits_per_sec = i.value("rate_bps", uint64_t{0});
    imp.distribution = i.value("distribution", std::string());
    auto msgs = encode_impairment(1, imp);
    ASSERT_EQ(msgs.size(), imp.rate_bits_per_sec ? 2u : 1u);
    const auto& netem = msgs.back();  // under TBF's class when there is a rate
    auto* tcm = static_cast<tcmsg*>(nlmsg_data(nlmsg_hdr(netem.get())));
    EXPECT_EQ(tcm->tcm_handle, c["tcm_handle"].get<uint32_t>());
    EXPECT_EQ(tcm->tcm_parent, c["tcm_parent"].get<uint32_t>());
    nlattr* tb[TCA_MAX + 1] = {};
    ASSERT_EQ(nlmsg_parse(nlmsg_hdr(netem.get()), sizeof(tcmsg), tb, TCA_MAX, nullptr), 0);
    ASSERT_NE(tb[TCA_KIND], nullptr);
    EXPECT_EQ(nla_get_string(tb[TCA_KIND]), c["kind"].get<std::string>());
    ASSERT_NE(tb[TCA_OPTIONS], nullptr);
    EXPECT_EQ(hex(nla_data(tb[TCA_OPTIONS]), static_cast<size_t>(nla_len(tb[TCA_OPTIONS]))),
              c["options_hex"].get<std::string>());
  }
}

}  // namespace
}  // namespace netlab::nl
