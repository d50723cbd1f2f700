package io.chimedialer.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.chimedialer.app.config.DialerConfig;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The status command's formatting: fields the API leaves out are '-', failed Regions and pause reasons shown. */
class StatusCommandTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text.replace('\'', '"'));
    }

    @Test
    void row_campaignKnownOnlyFromTheLedger_dashesForTheFiguresItLacks() throws Exception {
        JsonNode ledgerOnly = json("{'id':'old','campaign':'old','state':'COMPLETED','running':false,"
                + "'ledger':{'state':'COMPLETED','contactsByStatus':{'DONE':12}}}");

        String[] row = StatusCommand.row(ledgerOnly);

        assertThat(row).containsExactly("old", "COMPLETED", "-", "-", "-", "-", "-", "-", "-", "-", "-");
    }

    @Test
    void row_clusteredCampaign_theClustersFiguresNotTheNodesShare() throws Exception {
        // This node dialed 40 of the campaign's 200 contacts; the cluster view covers every node.
        JsonNode clustered = json("{'id':'beta','state':'RUNNING','contacts':{'total':40,'waiting':0},"
                + "'outcomes':{'ANSWERED':10,'BUSY':10},'live':2,'remaining':90,'node':'n1',"
                + "'cluster':{'contacts':{'total':200,'DONE':110},'remaining':90,'live':9,"
                + "'outcomes':{'ANSWERED':66,'NO_ANSWER':44}}}");

        String[] row = StatusCommand.row(clustered);

        assertThat(row).containsExactly("beta", "RUNNING", "55%", "110/200", "66", "60.0%", "9", "90", "0", "-",
                "-");
    }

    @Test
    void row_runningCampaign_figuresFromTheJson_andTheFailedRegion() throws Exception {
        JsonNode running = json("{'id':'alpha','state':'PAUSED','contacts':{'total':200,'waiting':3},"
                + "'attempts':60,'outcomes':{'ANSWERED':30,'BUSY':10,'NO_ANSWER':10},'live':4,'remaining':150,"
                + "'followUpsPending':7,'pauseReason':'every Region failed',"
                + "'regions':{'us-east-1':{'attempts':40,'failure':'AccessDeniedException: no'},"
                + "'us-west-2':{'attempts':20,'failure':null}}}");

        String[] row = StatusCommand.row(running);
        String detail = StatusCommand.detail(running);

        assertThat(row).containsExactly("alpha", "PAUSED", "25%", "50/200", "30", "60.0%", "4", "150", "3", "7",
                "FAILED:us-east-1");
        assertThat(detail).contains("campaign alpha: PAUSED").contains("paused because: every Region failed")
                .contains("region us-east-1: attempts 40").contains("FAILED: AccessDeniedException: no")
                .contains("region us-west-2: attempts 20").contains(", up\n").contains("answer rate 60.0%");
    }

    @Test
    void table_noCampaigns_saysSo_andColumnsAlign() throws Exception {
        assertThat(StatusCommand.table(json("[]"))).startsWith("no campaigns");
        String table = StatusCommand.table(json("[{'id':'a','state':'RUNNING'},{'id':'longer-name','state':'PAUSED'}]"));
        String[] lines = table.split("\n");
        assertThat(lines).hasSize(3);
        assertThat(lines[1].indexOf("RUNNING")).isEqualTo(lines[2].indexOf("PAUSED"))
                .isEqualTo(lines[0].indexOf("STATE"));
    }

    @Test
    void baseUrl_fromTheServerConfig_wildcardHostIsLocal_tlsIsHttps() {
        assertThat(StatusCommand.baseUrl(new DialerConfig.Server("0.0.0.0", 9090, null, null, null, null)))
                .isEqualTo("http://127.0.0.1:9090");
        assertThat(StatusCommand.baseUrl(new DialerConfig.Server("10.0.0.5", 8443, null, null,
                new DialerConfig.Tls(Path.of("c.pem"), Path.of("k.pem")), null))).isEqualTo("https://10.0.0.5:8443");
        assertThat(StatusCommand.baseUrl(new DialerConfig.Server("::1", 8080, null, null, null, null)))
                .isEqualTo("http://[::1]:8080");
    }
}
