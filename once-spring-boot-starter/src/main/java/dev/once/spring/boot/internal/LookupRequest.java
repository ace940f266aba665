package dev.once.spring.boot.internal;

import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletRequestWrapper;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A view of a request for asking Spring MVC's handler mappings which handler would serve it, ahead
 * of the DispatcherServlet: attributes the lookup sets or removes (the parsed path, the matched
 * pattern, URI variables) stay in this view, so the real request reaches the DispatcherServlet
 * untouched. Not thread-safe.
 */
public final class LookupRequest extends HttpServletRequestWrapper {

  private final Map<String, Object> set = new HashMap<>();
  private final Set<String> removed = new HashSet<>();

  public LookupRequest(HttpServletRequest request) {
    super(request);
  }

  @Override
  public @Nullable Object getAttribute(String name) {
    if (set.containsKey(name)) {
      return set.get(name);
    }
    return removed.contains(name) ? null : super.getAttribute(name);
  }

  @Override
  public Enumeration<String> getAttributeNames() {
    Set<String> names = new LinkedHashSet<>(Collections.list(super.getAttributeNames()));
    names.removeAll(removed);
    names.addAll(set.keySet());
    return Collections.enumeration(names);
  }

  @Override
  public void setAttribute(String name, Object value) {
    if (value == null) {
      removeAttribute(name);
      return;
    }
    set.put(name, value);
    removed.remove(name);
  }

  @Override
  public void removeAttribute(String name) {
    set.remove(name);
    removed.add(name);
  }
}
