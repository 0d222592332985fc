// The store behind a Rendezvous, for the engine's other c10d users (the process group of
// distributed/collectives.cpp) to build on: one TCPStore per run, not one per purpose.
#pragma once

#include "distributed/rendezvous.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>

namespace esper {

struct Rendezvous::Impl {
    c10::intrusive_ptr<c10d::TCPStore> store;
};

} // namespace esper
