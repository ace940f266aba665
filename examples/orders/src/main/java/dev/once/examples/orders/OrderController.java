package dev.once.examples.orders;

import java.net.URI;
import java.util.List;
import java.util.Map;
import org.springframework.context.annotation.Profile;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /orders} places an order; {@code GET /orders} lists them. */
@RestController
@Profile("orders")
public class OrderController {

  private final OrderService orders;

  OrderController(OrderService orders) {
    this.orders = orders;
  }

  @PostMapping("/orders")
  ResponseEntity<Order> place(@RequestBody PlaceOrder request) {
    Order order = orders.place(request);
    return ResponseEntity.created(URI.create("/orders/" + order.id())).body(order);
  }

  @GetMapping("/orders")
  List<Order> all() {
    return orders.all();
  }

  @ExceptionHandler(IllegalArgumentException.class)
  ResponseEntity<Map<String, String>> invalid(IllegalArgumentException e) {
    return ResponseEntity.badRequest().body(Map.of("error", e.getMessage()));
  }
}
