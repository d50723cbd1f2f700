package io.chimedialer.core;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import com.tngtech.archunit.lang.EvaluationResult;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The structure of dialer-core's main classes: its packages form no cycle, it uses no other module of the
 * project, and it uses no other library's internal package. Logs the package graph at INFO (run this test
 * alone to see it; docs/architecture.md) and puts it in every failure message, so a new edge can be judged
 * against the existing layers.
 */
class ArchitectureTest {

    private static final Logger log = LoggerFactory.getLogger(ArchitectureTest.class);

    private static JavaClasses main;
    private static String graph;

    @BeforeAll
    static void importMainClasses() {
        main = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages(PackageGraph.CORE);
        graph = PackageGraph.of(main).render();
        log.info("\n{}", graph);
    }

    @Test
    void corePackages_slicedByTopLevelPackage_freeOfCycles() {
        check(slices().matching(PackageGraph.CORE + ".(*)..").should().beFreeOfCycles()
                .because("domain types sit at the bottom and orchestration on top; a cycle ties packages into one"));
    }

    @Test
    void coreClasses_otherModulesOfTheProject_neverUsed() {
        check(noClasses().that().resideInAPackage(PackageGraph.CORE + "..")
                .should().dependOnClassesThat().resideInAnyPackage(
                        "io.chimedialer.app..", "io.chimedialer.emulator..", "io.chimedialer.lambda..")
                .orShould().dependOnClassesThat(
                        DescribedPredicate.describe("reside in io.chimedialer outside io.chimedialer.core",
                                c -> isOurs(c) && !c.getPackageName().startsWith(PackageGraph.CORE)))
                .because("dialer-core is the library the other modules build on"));
    }

    @Test
    void coreClasses_internalPackagesOfOtherLibraries_neverUsed() {
        check(noClasses().that().resideInAPackage(PackageGraph.CORE + "..")
                .should().dependOnClassesThat(INTERNAL_OF_ANOTHER_LIBRARY)
                .because("a library's internal package may change in any release"));
    }

    @Test
    void corePackages_internalSubpackages_usedOnlyByTheirOwnPackage() {
        StringBuilder violations = new StringBuilder();
        for (JavaClass c : main) {
            String owner = topLevel(c.getPackageName());
            c.getDirectDependenciesFromSelf().forEach(d -> {
                String target = d.getTargetClass().getPackageName();
                if (target.startsWith(PackageGraph.CORE + ".") && target.contains(".internal")
                        && !topLevel(target).equals(owner)) {
                    violations.append(d.getDescription()).append('\n');
                }
            });
        }
        if (violations.length() > 0) {
            fail("a core package uses another package's internal implementation:\n" + violations + "\n" + graph);
        }
    }

    private static String topLevel(String pkg) {
        if (!pkg.startsWith(PackageGraph.CORE + ".")) {
            return pkg;
        }
        String rest = pkg.substring(PackageGraph.CORE.length() + 1);
        int dot = rest.indexOf('.');
        return dot < 0 ? rest : rest.substring(0, dot);
    }

    @Test
    void packageGraph_currentCore_everyPackageSeenAndLayered() {
        PackageGraph g = PackageGraph.of(main);

        // Guards the printed graph itself: an import that found nothing would make every rule pass vacuously.
        assertThat(g.packages()).as(graph).contains("domain", "contacts", "util", "chime", "pacing", "ledger",
                "metrics", "flow", "webhook", "calls", "cluster", "campaign");
        assertThat(g.dependenciesOf("campaign")).as(graph).contains("pacing", "contacts");
        assertThat(g.layers()).as(graph).isNotEmpty();
    }

    /** A package name containing {@code .internal} (e.g. resilience4j's {@code ratelimiter.internal}), not ours. */
    static final DescribedPredicate<JavaClass> INTERNAL_OF_ANOTHER_LIBRARY = DescribedPredicate.describe(
            "reside in another library's internal package (a package name containing '.internal')",
            c -> !isOurs(c) && c.getPackageName().contains(".internal"));

    private static boolean isOurs(JavaClass c) {
        return c.getPackageName().equals("io.chimedialer") || c.getPackageName().startsWith("io.chimedialer.");
    }

    private static void check(ArchRule rule) {
        EvaluationResult result = rule.evaluate(main);
        if (result.hasViolation()) {
            fail(result.getFailureReport() + "\n\n" + graph);
        }
    }
}
