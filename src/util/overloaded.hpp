// Overloaded: a set of lambdas as one visitor for std::visit.
#pragma once

namespace netlab {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace netlab
