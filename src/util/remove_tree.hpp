// Removes a directory tree that a hostile process may have built: any depth
// (iterative, no recursion), any modes, fifos, sockets, device nodes, symlinks
// (removed, never followed), with a bounded number of descriptors (two or three
// at any time: it climbs back with openat(".."), checking each parent is the
// directory it came from). Never crosses into another filesystem (a mount
// point inside is reported, not entered).
#pragma once

#include <string>

namespace netlab {

/// Removes `path` and everything below it. Absent is success. Throws Error
/// naming the first entry that could not be removed (after removing the rest).
void remove_tree(const std::string& path);

}  // namespace netlab
