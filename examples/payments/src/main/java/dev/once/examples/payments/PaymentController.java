package dev.once.examples.payments;

import dev.once.spring.boot.Idempotent;
import java.net.URI;
import java.security.Principal;
import java.util.List;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestMapping;
import org.springframework.web.bind.annotation.RestController;

/**
 * The payments API. The two {@code POST}s are {@link Idempotent}: the {@code Idempotency-Key}
 * header is required, a retry gets the first response back, and the key is scoped to the
 * authenticated user and the route.
 */
@RestController
@RequestMapping("/payments")
class PaymentController {

  private final PaymentService service;

  PaymentController(PaymentService service) {
    this.service = service;
  }

  @PostMapping
  @Idempotent
  ResponseEntity<Payment> charge(@RequestBody ChargeRequest request, Principal user) {
    Payment payment = service.charge(user.getName(), request);
    return ResponseEntity.created(URI.create("/payments/" + payment.id())).body(payment);
  }

  @PostMapping("/{id}/refunds")
  @Idempotent
  ResponseEntity<Refund> refund(
      @PathVariable("id") String id, @RequestBody RefundRequest request, Principal user) {
    Refund refund = service.refund(user.getName(), id, request);
    return ResponseEntity.created(URI.create("/payments/" + id + "/refunds/" + refund.id()))
        .body(refund);
  }

  @GetMapping
  List<Payment> list(Principal user) {
    return service.list(user.getName());
  }

  @GetMapping("/{id}")
  Payment get(@PathVariable("id") String id, Principal user) {
    return service.get(user.getName(), id);
  }
}
