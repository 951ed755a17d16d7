package io.conea.logging;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScratchTest {

  @Test
  void poolHandsBackTheScratchItWasGiven() {
    Scratch.Pool pool = new Scratch.Pool(1024, 8);
    Scratch first = pool.take();
    pool.give(first);
    assertThat(pool.take()).isSameAs(first);
  }

  @Test
  void poolMakesTemporaryScratchesWhenAllAreBusyAndKeepsOnlyABoundedNumber() {
    Scratch.Pool pool = new Scratch.Pool(1024, 8);
    List<Scratch> taken = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      taken.add(pool.take());
    }
    assertThat(taken).doesNotHaveDuplicates();
    for (Scratch scratch : taken) {
      pool.give(scratch);
    }
    int idle = pool.idle();
    assertThat(idle).isBetween(4, 64);
    List<Scratch> again = new ArrayList<>();
    for (int i = 0; i < idle; i++) {
      again.add(pool.take());
    }
    assertThat(taken).containsAll(again);
    assertThat(pool.idle()).isZero();
  }

  @Test
  void addKeyFindsEqualBytesWrittenBefore() {
    Scratch scratch = new Scratch(1024, 8);
    JsonWriter writer = scratch.writer;
    writer.reset(1000);
    writer.beginObject();
    int a = writer.position();
    writer.name("alpha", 100, 1);
    int b = writer.position();
    writer.name("beta", 100, 1);
    int c = writer.position();
    writer.name("alpha", 100, 1);
    int d = writer.position();
    // Names written without values in between need no commas.
    assertThat(scratch.addKey(a, b - a)).isTrue();
    assertThat(scratch.addKey(b, c - b)).isTrue();
    assertThat(scratch.addKey(c, d - c)).as("alpha again").isFalse();
    scratch.clear();
    assertThat(scratch.addKey(c, d - c)).as("forgotten after clear").isTrue();
  }
}
