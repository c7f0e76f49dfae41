#include "lab/real_backend.hpp"

namespace netlab::lab {

std::unique_ptr<Backend> make_real_backend(const topo::Lab*, const HostFacts&) {
  throw Error(ENOSYS, "the kernel backend is not built yet");
}

}  // namespace netlab::lab
