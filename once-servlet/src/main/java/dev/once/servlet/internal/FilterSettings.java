package dev.once.servlet.internal;

import dev.once.IdempotencyStore;
import dev.once.KeyPolicy;
import dev.once.OnceListener;
import dev.once.servlet.RouteResolver;
import dev.once.servlet.TenantResolver;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** The filter's validated settings, as its builder hands them over. */
public record FilterSettings(
    IdempotencyStore defaultStore,
    RouteResolver routes,
    TenantResolver tenantResolver,
    String headerName,
    String replayedHeaderName,
    boolean strictKeySyntax,
    KeyPolicy keyPolicy,
    int mismatchStatus,
    long maxBodyBytes,
    long maxResponseBytes,
    OnceListener listener,
    String problemTypeBase,
    List<String> perRequestHeaders,
    @Nullable KeyRateLimiter keyRateLimiter) {}
