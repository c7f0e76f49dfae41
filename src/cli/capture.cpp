// netlab capture [LAB] TARGET [-w FILE|-] [-c N] [-f FILTER] [--duration D] [-- COMMAND...]
// netlab capture [LAB] --all [-w FILE|DIR|-] ...
#include <sys/stat.h>

#include <fmt/format.h>

#include <iostream>

#include "cli/common.hpp"
#include "cli/exit_codes.hpp"
#include "cli/options.hpp"
#include "lab/capture.hpp"
#include "topology/values.hpp"

namespace netlab::cli {

namespace {

// The drop report on stderr: every capture ends with it (pcap_stats).
void report(const capture::Summary& s) {
  uint64_t accepted = 0, dropped = 0;
  for (const auto& e : s.ends) accepted += e.accepted, dropped += e.dropped;
  for (const auto& e : s.ends) {
    if (s.ends.size() > 16 && e.dropped == 0 && e.error.empty()) continue;
    std::cerr << fmt::format("{}: {} packets captured, {} accepted by the filter, {} dropped by the kernel{}\n",
                             e.label, e.captured, e.accepted, e.dropped, e.error.empty() ? "" : " (" + e.error + ")");
  }
  if (s.ends.size() > 1)
    std::cerr << fmt::format("{} packets captured on {} interfaces, {} accepted by the filter, {} dropped by the kernel\n",
                             s.captured, s.ends.size(), accepted, dropped);
}

}  // namespace

int run_capture(const Args& args) {
  VerbSpec spec;
  spec.usage =
      "netlab capture [LAB] NODE:IFACE|BRIDGE|BRIDGE:NODE:IFACE [options] [-- COMMAND...]\n"
      "       netlab capture [LAB] --all [-w FILE.pcapng|DIR|-] [options] [-- COMMAND...]";
  spec.summary =
      "Capture packets inside the lab (no tcpdump needed): on a node's interface, on a bridge, on a\n"
      "bridge's port towards NODE:IFACE, or with --all on every link end at once (one pcapng file,\n"
      "one interface named NODE:IFACE per end). Without -w, one line per packet; -w - streams to\n"
      "stdout (| wireshark -k -i -). Runs until Ctrl-C, -c, --duration, or the end of COMMAND (run\n"
      "on the host once capturing starts; its exit code becomes netlab's). Drops go to stderr.";
  spec.options.add_options()
      ("words", po::value<std::vector<std::string>>()->value_name("[LAB] TARGET"),
       "NODE:IFACE, BRIDGE or BRIDGE:NODE:IFACE (and the lab, when more than one is deployed)")
      ("all", po::bool_switch(), "every link end of the lab")
      ("write,w", po::value<std::string>()->value_name("FILE|DIR|-"),
       "pcap file (pcapng for *.pcapng and --all), a directory, or - for stdout")
      ("count,c", po::value<uint64_t>()->default_value(0)->value_name("N"), "stop after this many packets")
      ("filter,f", po::value<std::string>()->default_value("")->value_name("FILTER"),
       "capture filter (pcap-filter syntax: \"icmp\")")
      ("duration", po::value<std::string>()->value_name("D"), "stop after this long (10s, 500ms)")
      ("snaplen,s", po::value<int>()->default_value(262144)->value_name("BYTES"), "bytes kept of each packet")
      ("buffer-size,B", po::value<int>()->value_name("KIB"), "kernel ring per interface, KiB (default 8192; 512 with --all)")
      ("no-promiscuous-mode,p", po::bool_switch(), "leave promiscuous mode off (a bridge then sees only its own)");
  spec.positional.add("words", -1);
  add_state_dir_option(spec);
  auto dash = std::find(args.begin(), args.end(), "--");
  po::variables_map vm;
  if (int rc = parse_verb_options(spec, Args(args.begin(), dash), vm); rc >= 0) return rc;
  std::vector<std::string> words;
  if (vm.count("words")) words = vm["words"].as<std::vector<std::string>>();
  bool all = vm["all"].as<bool>();
  if (all && words.size() > 1) return usage_error(spec, "--all takes at most a lab name");
  if (!all && words.empty()) return usage_error(spec, "what to capture on? give [LAB] NODE:IFACE, a bridge, or --all");
  if (!all && words.size() > 2) return usage_error(spec, "too many words: give [LAB] TARGET");
  capture::Options o;
  if (dash != args.end()) o.command.assign(dash + 1, args.end());
  o.filter = vm["filter"].as<std::string>();
  o.count = vm["count"].as<uint64_t>();
  o.handle.snaplen = vm["snaplen"].as<int>();
  o.handle.promisc = !vm["no-promiscuous-mode"].as<bool>();
  int ring_kib = vm.count("buffer-size") ? vm["buffer-size"].as<int>() : all ? 512 : 8192;
  if (ring_kib < 64 || ring_kib > (1 << 20) || o.handle.snaplen < 64) {
    return usage_error(spec, "-B must be 64..1048576 KiB and -s at least 64 bytes");
  }
  o.handle.buffer_bytes = ring_kib << 10;
  if (vm.count("duration")) {
    std::string why;
    auto d = topo::parse_duration(vm["duration"].as<std::string>(), &why);
    if (!d || d->ns == 0) {
      return usage_error(spec, "--duration \"" + vm["duration"].as<std::string>() + "\": " + (d ? "must be > 0" : why));
    }
    o.duration_ns = d->ns;
  }
  lab::HostFacts facts = host_facts_from(vm);
  auto lab = resolve_lab_name(facts, all ? (words.empty() ? "" : words[0]) : (words.size() == 2 ? words[0] : ""));
  if (!lab) return kExitUserError;
  if (!require_root("capture")) return kExitUserError;
  if (vm.count("write")) {
    o.output.path = vm["write"].as<std::string>();
    struct stat st{};
    if (o.output.path != "-" && ::stat(o.output.path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
      o.output.path += "/" + *lab + (all ? ".pcapng" : "-" + words.back() + ".pcap");
    o.output.format = capture::format_for(o.output.path, all);
  }
  // Text and streams deliver each packet at once; a file takes them in blocks (cheaper).
  o.handle.immediate = o.output.format == capture::Format::kText || o.output.path == "-";
  std::vector<std::string> targets;
  if (!all) targets.push_back(words.back());
  o.on_ready = [&] {
    std::cerr << fmt::format("netlab: capturing on {} of lab {}{}{}; Ctrl-C stops\n",
                             all ? "every link end" : targets[0], *lab,
                             o.filter.empty() ? "" : ", filter \"" + o.filter + "\"",
                             o.output.path.empty() ? "" : ", writing " + (o.output.path == "-" ? "stdout" : o.output.path));
  };
  try {
    auto summary = lab::capture_lab(facts, *lab, targets, o);
    report(summary);
    if (summary.stopped_by == "interfaces gone" || summary.stopped_by == "gone") {
      std::cerr << "netlab: capture: lab " << *lab << " was destroyed while capturing\n";
      return kExitSystemError;
    }
    return summary.command_status.value_or(kExitOk);
  } catch (const Error& e) {
    std::cerr << "netlab: capture: " << message_for(e) << "\n";
    return exit_code_for(e);
  }
}

}  // namespace netlab::cli
