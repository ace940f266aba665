package dev.once.examples.payments;

import java.net.URI;
import java.util.Map;
import org.springframework.http.HttpStatus;

/**
 * A business outcome that is final: the answer a retry must get again, not a failure to undo. The
 * service's transactions do not roll back for it ({@code noRollbackFor}), so in atomic mode it is
 * stored with the key.
 */
public class PaymentProblem extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final HttpStatus status;
  private final String type;
  private final String title;
  private final transient Map<String, Object> properties;

  PaymentProblem(
      HttpStatus status, String type, String title, String detail, Map<String, Object> properties) {
    super(detail);
    this.status = status;
    this.type = type;
    this.title = title;
    this.properties = Map.copyOf(properties);
  }

  public HttpStatus status() {
    return status;
  }

  public URI type() {
    return URI.create("https://payments.example/problems/" + type);
  }

  public String title() {
    return title;
  }

  public Map<String, Object> properties() {
    return properties;
  }

  static PaymentProblem invalid(String detail) {
    return new PaymentProblem(
        HttpStatus.BAD_REQUEST, "invalid-request", "Invalid request", detail, Map.of());
  }

  static PaymentProblem declined(String paymentId, String reason) {
    return new PaymentProblem(
        HttpStatus.PAYMENT_REQUIRED,
        "card-declined",
        "Card declined",
        "The card processor declined the payment: " + reason,
        Map.of("paymentId", paymentId));
  }

  static PaymentProblem notFound(String paymentId) {
    return new PaymentProblem(
        HttpStatus.NOT_FOUND,
        "payment-not-found",
        "Payment not found",
        "No payment " + paymentId + " belongs to you",
        Map.of());
  }

  static PaymentProblem notRefundable(String paymentId, String status) {
    return new PaymentProblem(
        HttpStatus.UNPROCESSABLE_CONTENT,
        "payment-not-refundable",
        "Payment not refundable",
        "Payment " + paymentId + " is " + status + "; only captured payments can be refunded",
        Map.of());
  }

  static PaymentProblem refundExceeds(String paymentId, long requested, long remaining) {
    return new PaymentProblem(
        HttpStatus.UNPROCESSABLE_CONTENT,
        "refund-exceeds-payment",
        "Refund exceeds the remaining amount",
        "A refund of "
            + requested
            + " cents exceeds the "
            + remaining
            + " cents left to refund on payment "
            + paymentId,
        Map.of("paymentId", paymentId, "remainingCents", remaining));
  }
}
