namespace netlab::node::detail {
int init_main(int argc, char** argv);
}

int main(int argc, char** argv) { return netlab::node::detail::init_main(argc, argv); }
