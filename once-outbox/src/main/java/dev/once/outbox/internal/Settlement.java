package dev.once.outbox.internal;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * What a published batch comes to, from the publisher's answer: rows the broker acknowledged are
 * sent; refused rows are refused; a row whose key had an earlier row of this batch refused is held
 * back, acknowledged or refused (its refusal spends no attempt: the publisher may have refused it
 * only because its key's earlier message failed), so that no row is marked sent while an earlier
 * row of its key is unsent. A held-back row stays pending with its attempts unchanged; it goes out
 * again after its key's refused row is sent or parked.
 *
 * @param sent rows to mark sent
 * @param refused rows to record a refusal on, with the reason
 * @param heldBack rows left pending as they were
 */
public record Settlement(
    List<ClaimedRow> sent,
    List<Map.Entry<ClaimedRow, Exception>> refused,
    List<ClaimedRow> heldBack) {

  /**
   * Settles a batch.
   *
   * @param batch the published rows, oldest first
   * @param refusals the publisher's answer: refused ids and why
   * @return the settlement
   */
  public static Settlement of(List<ClaimedRow> batch, Map<UUID, Exception> refusals) {
    List<ClaimedRow> sent = new ArrayList<>();
    List<Map.Entry<ClaimedRow, Exception>> refused = new ArrayList<>();
    List<ClaimedRow> heldBack = new ArrayList<>();
    Set<String> refusedKeys = new HashSet<>();
    for (ClaimedRow row : batch) {
      String key = row.message().key();
      Exception reason = refusals.get(row.message().id());
      if (key != null && refusedKeys.contains(key)) {
        heldBack.add(row);
      } else if (reason != null) {
        refused.add(Map.entry(row, reason));
        if (key != null) {
          refusedKeys.add(key);
        }
      } else {
        sent.add(row);
      }
    }
    return new Settlement(sent, refused, heldBack);
  }
}
