package dev.once.examples.payments;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.stereotype.Service;
import org.springframework.transaction.annotation.Transactional;

/**
 * Charges and refunds. Each method is one {@code @Transactional} unit; behind an
 * {@code @Idempotent} route in atomic mode it joins the transaction that also holds the key record,
 * so the payment and the stored response commit together. {@link PaymentProblem}s are final
 * answers, not failures: they do not roll back.
 */
@Service
public class PaymentService {

  private static final Pattern CURRENCY = Pattern.compile("[A-Z]{3}");

  private final PaymentRepository payments;
  private final CardProcessor processor;

  PaymentService(PaymentRepository payments, CardProcessor processor) {
    this.payments = payments;
    this.processor = processor;
  }

  /**
   * Records the payment, asks the card processor, and settles it as captured or declined.
   *
   * @throws PaymentProblem 400 for a bad request, 402 when the card is declined (the declined
   *     payment is kept)
   */
  @Transactional(noRollbackFor = PaymentProblem.class)
  public Payment charge(String owner, ChargeRequest request) {
    validate(request);
    String id = "pay_" + UUID.randomUUID().toString().replace("-", "");
    payments.insert(id, owner, request, "pending", now());
    CardProcessor.Authorization auth =
        processor.charge(id, request.customerId(), request.amountCents(), request.currency());
    if (!auth.approved()) {
      payments.settle(id, "declined", null);
      throw PaymentProblem.declined(id, auth.declineReason());
    }
    payments.settle(id, "captured", auth.reference());
    return payments.find(owner, id).orElseThrow();
  }

  /**
   * Refunds part of a captured payment.
   *
   * @throws PaymentProblem 404 for another user's or an unknown payment, 422 for a declined payment
   *     or a refund larger than what is left
   */
  @Transactional(noRollbackFor = PaymentProblem.class)
  public Refund refund(String owner, String paymentId, RefundRequest request) {
    if (request == null || request.amountCents() == null || request.amountCents() <= 0) {
      throw PaymentProblem.invalid("amountCents must be a positive number of cents");
    }
    Payment payment =
        payments.lock(owner, paymentId).orElseThrow(() -> PaymentProblem.notFound(paymentId));
    if (!"captured".equals(payment.status())) {
      throw PaymentProblem.notRefundable(paymentId, payment.status());
    }
    long remaining = payment.amountCents() - payment.refundedCents();
    if (request.amountCents() > remaining) {
      throw PaymentProblem.refundExceeds(paymentId, request.amountCents(), remaining);
    }
    Refund refund =
        new Refund(
            "ref_" + UUID.randomUUID().toString().replace("-", ""),
            paymentId,
            request.amountCents(),
            now());
    payments.insertRefund(refund.id(), paymentId, refund.amountCents(), refund.createdAt());
    return refund;
  }

  @Transactional(readOnly = true)
  public List<Payment> list(String owner) {
    return payments.findAll(owner);
  }

  @Transactional(readOnly = true)
  public Payment get(String owner, String id) {
    return payments.find(owner, id).orElseThrow(() -> PaymentProblem.notFound(id));
  }

  private static void validate(ChargeRequest r) {
    if (r == null
        || r.customerId() == null
        || r.customerId().isBlank()
        || r.customerId().length() > 100) {
      throw PaymentProblem.invalid("customerId is required (at most 100 characters)");
    }
    if (r.amountCents() == null || r.amountCents() <= 0) {
      throw PaymentProblem.invalid("amountCents must be a positive number of cents");
    }
    if (r.currency() == null || !CURRENCY.matcher(r.currency()).matches()) {
      throw PaymentProblem.invalid(
          "currency must be an ISO 4217 code such as EUR, not "
              + (r.currency() == null
                  ? "missing"
                  : "'" + r.currency().toUpperCase(Locale.ROOT) + "'"));
    }
  }

  private static Instant now() {
    return Instant.now().truncatedTo(ChronoUnit.MILLIS);
  }
}
