# Writes a man page (gzipped) from a program's own --help, so the page never drifts from it.
# With -DVERBS=ON (esper), each verb's --help becomes a section of its own. SUMMARY is the NAME
# line's text; without it the help's first line "name - summary" gives it.
#   cmake -DPROGRAM=path -DNAME=esper -DVERSION=0.1.0 -DOUT=esper.1.gz [-DVERBS=ON]
#         [-DSUMMARY=text] -P make_manpage.cmake
cmake_minimum_required(VERSION 3.22)

function(run_help out)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env QT_QPA_PLATFORM=offscreen
                          ${PROGRAM} ${ARGN} --help
                  OUTPUT_VARIABLE text ERROR_VARIABLE errors RESULT_VARIABLE rc)
  if(text STREQUAL "")
    set(text "${errors}")
  endif()
  # Qt's parser shows the path it was started from; the page shows the command.
  string(REPLACE "${PROGRAM}" "${NAME}" text "${text}")
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

# Text as troff shows it verbatim: backslashes escaped, lines that would read as requests
# guarded.
function(troff_verbatim out text)
  string(REPLACE "\\" "\\e" text "${text}")
  string(REGEX REPLACE "(^|\n)([.'])" "\\1\\\\&\\2" text "${text}")
  set(${out} ".nf\n${text}\n.fi\n" PARENT_SCOPE)
endfunction()

run_help(main)
if(DEFINED SUMMARY)
  set(summary "${SUMMARY}")
else()
  string(REGEX MATCH "^[^\n]*" first_line "${main}")
  string(REGEX REPLACE "^[^ ]+ - " "" summary "${first_line}")
endif()
string(REPLACE "-" "\\-" summary "${summary}")
string(TOUPPER "${NAME}" title)
set(page ".TH ${title} 1 \"\" \"ESPER Studio ${VERSION}\" \"User Commands\"\n")
string(APPEND page ".SH NAME\n${NAME} \\- ${summary}\n.SH DESCRIPTION\n")
troff_verbatim(body "${main}")
string(APPEND page "${body}")

# Verbs: the lines "  verb   description" of the main help.
# (Semicolons would split CMake's list items, so only the verb names are collected.)
string(REPLACE ";" "," main_no_lists "${main}")
string(REGEX MATCHALL "\n  [a-z][a-z-]+  " verb_lines "${main_no_lists}")
if(VERBS AND verb_lines)
  string(APPEND page ".SH VERBS\n")
  foreach(line IN LISTS verb_lines)
    string(REGEX MATCH "[a-z][a-z-]+" verb "${line}")
    run_help(help ${verb})
    troff_verbatim(body "${help}")
    string(APPEND page ".SS ${verb}\n${body}")
  endforeach()
endif()
string(APPEND page ".SH SEE ALSO\n.BR esper (1),\n.BR esper\\-studio (1)\n")

get_filename_component(dir "${OUT}" DIRECTORY)
string(REGEX REPLACE "\\.gz$" "" plain "${OUT}")
file(WRITE "${plain}" "${page}")
file(ARCHIVE_CREATE OUTPUT "${OUT}" PATHS "${plain}" FORMAT raw COMPRESSION GZip)
