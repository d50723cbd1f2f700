package io.chimedialer.app.runtime;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.config.MeterFilter;
import java.util.Map;

/**
 * Gives reactor-netty's meters a description (their {@code # HELP} line), which reactor-netty leaves empty and
 * {@code promtool check metrics} reports. Stateless; other meters pass unchanged.
 */
final class NettyMeterDescriptions implements MeterFilter {
    private static final String PREFIX = "reactor.netty.";
    private static final Map<String, String> DESCRIPTIONS = Map.ofEntries(
            Map.entry("reactor.netty.http.server.response.time", "Time to answer an HTTP request, by uri, method and status"),
            Map.entry("reactor.netty.http.server.data.received", "HTTP request body bytes received"),
            Map.entry("reactor.netty.http.server.data.sent", "HTTP response body bytes sent"),
            Map.entry("reactor.netty.http.server.data.received.time", "Time to receive an HTTP request"),
            Map.entry("reactor.netty.http.server.data.sent.time", "Time to send an HTTP response"),
            Map.entry("reactor.netty.http.server.errors", "HTTP server errors"),
            Map.entry("reactor.netty.http.server.connections", "Open HTTP server connections"),
            Map.entry("reactor.netty.http.server.connections.active", "HTTP server connections serving a request"),
            Map.entry("reactor.netty.http.server.streams.active", "Active HTTP/2 streams"),
            Map.entry("reactor.netty.eventloop.pending.tasks", "Tasks waiting in a Netty event loop"),
            Map.entry("reactor.netty.bytebuf.allocator.used.direct.memory", "Direct memory used by a Netty allocator"),
            Map.entry("reactor.netty.bytebuf.allocator.used.heap.memory", "Heap memory used by a Netty allocator"));

    @Override
    public Meter.Id map(Meter.Id id) {
        if (id.getDescription() != null || !id.getName().startsWith(PREFIX)) {
            return id;
        }
        String description = DESCRIPTIONS.getOrDefault(id.getName(), "reactor-netty meter " + id.getName());
        return new Meter.Id(id.getName(), Tags.of(id.getTagsAsIterable()), id.getBaseUnit(), description, id.getType());
    }
}
