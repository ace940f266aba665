package dev.once.examples.payments;

/** The card network: the effect outside our database that must not happen twice. */
public interface CardProcessor {

  /**
   * Charges a card.
   *
   * @return the processor's answer: approved with a reference, or declined with a reason
   */
  Authorization charge(String paymentId, String customerId, long amountCents, String currency);

  /** The processor's answer. */
  record Authorization(boolean approved, String reference, String declineReason) {

    public static Authorization approved(String reference) {
      return new Authorization(true, reference, null);
    }

    public static Authorization declined(String reason) {
      return new Authorization(false, null, reason);
    }
  }
}
