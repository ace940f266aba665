package dev.once.spring.boot;

import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;
import org.springframework.expression.EvaluationContext;
import org.springframework.expression.Expression;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.expression.spel.support.SimpleEvaluationContext;

/**
 * A message id from a SpEL expression over the record or message (read-only: properties and
 * methods).
 */
final class SpelMessageIds {

  private final String source;
  private final Expression expression;
  private final EvaluationContext context =
      SimpleEvaluationContext.forReadOnlyDataBinding().withInstanceMethods().build();

  SpelMessageIds(String expression) {
    this.source = expression;
    this.expression = new SpelExpressionParser().parseExpression(expression);
  }

  @Nullable String evaluate(Object root) {
    Object value = expression.getValue(context, root);
    if (value == null) {
      return null;
    }
    return value instanceof byte[] bytes
        ? new String(bytes, StandardCharsets.UTF_8)
        : value.toString();
  }

  @Override
  public String toString() {
    return "SpEL[" + source + "]";
  }
}
