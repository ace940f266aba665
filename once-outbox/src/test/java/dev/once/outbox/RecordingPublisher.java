package dev.once.outbox;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * A publisher for the relay's tests: it records every publication in order, refuses what {@link
 * #refuse} says, throws while {@link #failing} is set, and notices a message published while
 * another relay's publication of it has not returned (which a claim must prevent).
 */
final class RecordingPublisher implements OutboxPublisher {

  /** Every publication, in the order the calls were made. */
  final List<OutboxMessage> published = new CopyOnWriteArrayList<>();

  /** Messages handed over while a publication of the same id was in flight. */
  final List<UUID> overlapping = new CopyOnWriteArrayList<>();

  private final Set<UUID> inFlight = ConcurrentHashMap.newKeySet();
  volatile Function<OutboxMessage, @Nullable Exception> refuse = m -> null;
  volatile @Nullable RuntimeException failing;

  @Override
  public Map<UUID, Exception> publish(List<OutboxMessage> messages) {
    RuntimeException fail = failing;
    if (fail != null) {
      throw fail;
    }
    for (OutboxMessage m : messages) {
      if (!inFlight.add(m.id())) {
        overlapping.add(m.id());
      }
    }
    try {
      Map<UUID, Exception> refused = new HashMap<>();
      for (OutboxMessage m : messages) {
        published.add(m);
        Exception no = refuse.apply(m);
        if (no != null) {
          refused.put(m.id(), no);
        }
      }
      return refused;
    } finally {
      for (OutboxMessage m : messages) {
        inFlight.remove(m.id());
      }
    }
  }

  List<UUID> ids() {
    List<UUID> ids = new ArrayList<>();
    for (OutboxMessage m : published) {
      ids.add(m.id());
    }
    return ids;
  }

  long count(UUID id) {
    return published.stream().filter(m -> m.id().equals(id)).count();
  }
}
