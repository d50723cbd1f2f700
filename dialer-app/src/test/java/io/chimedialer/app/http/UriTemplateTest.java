package io.chimedialer.app.http;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The {@code uri} tag of the HTTP server meters stays bounded: path parameters become templates. */
class UriTemplateTest {

    @Test
    void uriTemplate_routesWithParameters_templates() {
        assertThat(DialerHttpServer.uriTemplate("/v1/campaigns/reminders")).isEqualTo("/v1/campaigns/{id}");
        assertThat(DialerHttpServer.uriTemplate("/v1/campaigns/reminders/pause")).isEqualTo("/v1/campaigns/{id}/{action}");
        assertThat(DialerHttpServer.uriTemplate("/v1/regions/us-east-1/rate")).isEqualTo("/v1/regions/{region}/rate");
    }

    @Test
    void uriTemplate_fixedRoutes_unchangedWithoutQuery() {
        assertThat(DialerHttpServer.uriTemplate("/v1/sma/invocations")).isEqualTo("/v1/sma/invocations");
        assertThat(DialerHttpServer.uriTemplate("/metrics?x=1")).isEqualTo("/metrics");
        assertThat(DialerHttpServer.uriTemplate("/v1/campaigns")).isEqualTo("/v1/campaigns");
    }

    @Test
    void uriTemplate_unknownPaths_other() {
        assertThat(DialerHttpServer.uriTemplate("/wp-admin/+12065550100")).isEqualTo("/other");
        assertThat(DialerHttpServer.uriTemplate("/v1/campaigns/a/b/c")).isEqualTo("/other");
    }

    @Test
    void uriTemplate_consolePaths_templatesWithoutCampaignNames() {
        assertThat(DialerHttpServer.uriTemplate("/")).isEqualTo("/");
        assertThat(DialerHttpServer.uriTemplate("/console")).isEqualTo("/console/");
        assertThat(DialerHttpServer.uriTemplate("/console/?done=pause")).isEqualTo("/console/");
        assertThat(DialerHttpServer.uriTemplate("/console/campaigns/reminders")).isEqualTo("/console/campaigns/{id}");
        assertThat(DialerHttpServer.uriTemplate("/console/campaigns/reminders/live.json"))
                .isEqualTo("/console/campaigns/{id}/{page}");
        assertThat(DialerHttpServer.uriTemplate("/console/assets/console.js")).isEqualTo("/console/assets/console.js");
        assertThat(DialerHttpServer.uriTemplate("/console/assets/+12065550100")).isEqualTo("/other");
    }
}
