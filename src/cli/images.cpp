// netlab images ls|pull|rm|prune — the container image store (<state-dir>/images/oci).
#include <algorithm>
#include <ctime>
#include <iostream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "lab/images.hpp"
#include "util/strings.hpp"

namespace netlab::cli {

namespace {

std::string human(uint64_t bytes) {
  if (bytes >= (10ull << 30)) return fmt::format("{}G", bytes >> 30);
  if (bytes >= (10ull << 20)) return fmt::format("{}M", bytes >> 20);
  if (bytes >= (10ull << 10)) return fmt::format("{}K", bytes >> 10);
  return fmt::format("{}B", bytes);
}

int list(const lab::HostFacts& facts, bool as_json) {
  auto images = lab::list_images(facts);
  if (as_json) {
    auto j = nlohmann::json::array();
    for (const auto& i : images)
      j.push_back({{"ref", i.ref}, {"manifest", i.manifest}, {"layers", i.layers}, {"bytes", i.bytes},
                   {"labs", i.labs}, {"imported_at", i.imported_at}});
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  if (images.empty()) {
    std::cout << "no image is stored\n";
    return kExitOk;
  }
  std::cout << fmt::format("{:<19} {:>6} {:>7}  {:<20} {}\n", "MANIFEST", "LAYERS", "SIZE", "USED BY", "IMAGE");
  for (const auto& i : images)
    std::cout << fmt::format("{:<19} {:>6} {:>7}  {:<20} {}\n", i.manifest.substr(0, 19), i.layers, human(i.bytes),
                             i.labs.empty() ? "-" : join(i.labs, ","), i.ref);
  return kExitOk;
}

}  // namespace

int run_images(const Args& args) {
  VerbSpec spec;
  spec.usage =
      "netlab images ls [--json]\n"
      "       netlab images pull REFERENCE\n"
      "       netlab images rm REFERENCE\n"
      "       netlab images prune";
  spec.summary =
      "List, fetch and remove the container images nodes use (image = \"oci:...\", \"oci-archive:...\",\n"
      "\"docker-archive:...\" or a registry reference). An image a deployed lab uses cannot be removed;\n"
      "prune frees the layers no stored image refers to.";
  spec.options.add_options()(
      "words", po::value<std::vector<std::string>>()->value_name("ACTION [REFERENCE]"),
      "ls, pull, rm or prune; pull and rm take an image reference")("json", "ls: machine-readable output");
  spec.positional.add("words", -1);
  add_state_dir_option(spec);
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, args, vm); rc >= 0) return rc;
  std::vector<std::string> w;
  if (vm.count("words")) w = vm["words"].as<std::vector<std::string>>();
  if (w.empty()) return usage_error(spec, "what to do? give ls, pull, rm or prune");
  const std::vector<std::string> actions = {"ls", "pull", "rm", "prune"};
  if (std::find(actions.begin(), actions.end(), w[0]) == actions.end()) {
    std::string best = closest_match(w[0], actions);
    return usage_error(spec, "unknown action \"" + w[0] + "\" (ls, pull, rm or prune" +
                                 (best.empty() ? "" : "; did you mean \"" + best + "\"?") + ")");
  }
  bool takes_ref = w[0] == "pull" || w[0] == "rm";
  if (takes_ref && w.size() != 2) return usage_error(spec, w[0] + " takes one image reference");
  if (!takes_ref && w.size() != 1) return usage_error(spec, w[0] + " takes no argument");
  lab::HostFacts facts = host_facts_from(vm);
  try {
    if (w[0] == "ls") return list(facts, vm.count("json") > 0);
    if (w[0] == "pull") {
      auto i = lab::pull_image(facts, w[1]);
      std::cout << fmt::format("{}: {} ({} layers, {})\n", i.ref, i.manifest, i.layers, human(i.bytes));
      return kExitOk;
    }
    if (w[0] == "rm") {
      lab::remove_image(facts, w[1]);
      std::cout << "removed " << w[1] << " (its layers go with `netlab images prune`)\n";
      return kExitOk;
    }
    auto p = lab::prune_images(facts);
    std::cout << fmt::format("pruned {} layers and {} blobs, {} freed\n", p.layers, p.blobs, human(p.bytes));
    return kExitOk;
  } catch (const Error& e) {
    std::cerr << "netlab: images " << w[0] << ": " << e.what() << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
