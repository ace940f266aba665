package dev.once.examples.payments;

import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;

/**
 * Business outcomes as RFC 9457 problem details, written as the response body (so the filter can
 * store them).
 */
@RestControllerAdvice
class ProblemAdvice {

  @ExceptionHandler(PaymentProblem.class)
  ResponseEntity<ProblemDetail> problem(PaymentProblem problem) {
    ProblemDetail body = ProblemDetail.forStatusAndDetail(problem.status(), problem.getMessage());
    body.setType(problem.type());
    body.setTitle(problem.title());
    problem.properties().forEach(body::setProperty);
    return ResponseEntity.status(problem.status()).body(body);
  }
}
