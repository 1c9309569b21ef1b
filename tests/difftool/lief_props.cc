// lief_props: test-only tool of tests/integration/lief_differential.sh.
// For each PE file given, prints what LIEF 0.9's C++ API itself says of the
// properties pefleet derives (its C API does not expose them):
//   PATH<TAB>has_configuration,has_debug,has_exceptions,has_exports,
//   has_imports,has_nx,has_relocations,has_resources,has_rich_header,
//   has_signature,has_tls<TAB>virtual_size
// or PATH<TAB>error<TAB>REASON when LIEF refuses the file. C++ stays in
// this one tool; pefleet itself uses LIEF's C API only.
#include <LIEF/PE.hpp>

#include <cstdio>
#include <exception>
#include <memory>

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    try {
      std::unique_ptr<LIEF::PE::Binary> b{LIEF::PE::Parser::parse(argv[i])};
      if (!b) { std::printf("%s\terror\tnot parsed\n", argv[i]); continue; }
      bool nx = b->optional_header().has(LIEF::PE::DLL_CHARACTERISTICS::IMAGE_DLL_CHARACTERISTICS_NX_COMPAT);
      std::printf("%s\t%d,%d,%d,%d,%d,%d,%d,%d,%d,%d,%d\t%llu\n", argv[i], b->has_configuration(), b->has_debug(),
                  b->has_exceptions(), b->has_exports(), b->has_imports(), nx, b->has_relocations(),
                  b->has_resources(), b->has_rich_header(), b->has_signature(), b->has_tls(),
                  (unsigned long long)b->virtual_size());
    } catch (const std::exception &e) {
      std::printf("%s\terror\t%s\n", argv[i], e.what());
    }
  }
  return 0;
}
