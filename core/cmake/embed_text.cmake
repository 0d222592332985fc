# Turns a text file into a C++ source defining `const char* const NAME` with its contents, so
# data files (style presets, the model registry) ship inside the engine rather than beside it.
file(READ ${INPUT} content)
file(WRITE ${OUTPUT} "// Generated from ${INPUT}; edit that file instead.\n"
  "namespace esper::embedded {\nextern const char* const ${NAME};\n"
  "const char* const ${NAME} = R\"esper_embed(${content})esper_embed\";\n}\n")
