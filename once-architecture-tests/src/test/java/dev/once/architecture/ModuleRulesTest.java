package dev.once.architecture;

import static com.tngtech.archunit.lang.conditions.ArchConditions.be;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.PackageMatcher;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The module rules of {@link OnceModule}, checked on the compiled main classes of every module:
 * each rule runs once per module, so a failure names the module, the rule and every offending
 * dependency with its source line.
 */
class ModuleRulesTest {

  private static JavaClasses classes;

  @BeforeAll
  static void importEveryModule() {
    classes =
        new ClassFileImporter()
            .importPaths(Arrays.stream(OnceModule.values()).map(OnceModule::classes).toList());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(OnceModule.class)
  void classesLiveInTheModulesOwnPackages(OnceModule module) {
    classes()
        .that(resideIn(module))
        .should(be(inPackagesOwnedBy(module)))
        .because(
            "a package belongs to one module (no split packages): the one whose root package is the nearest above it")
        .check(classes);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(OnceModule.class)
  void dependsOnlyOnTheJdkAndTheModulesAndLibrariesItDeclares(OnceModule module) {
    classes()
        .that(resideIn(module))
        .should()
        .onlyDependOnClassesThat(areAllowedIn(module))
        .because("OnceModule." + module.name() + " lists what " + module + " may use")
        .check(classes);
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(OnceModule.class)
  void usesNoOtherModulesInternals(OnceModule module) {
    noClasses()
        .that(resideIn(module))
        .should()
        .dependOnClassesThat(areInternalsOfAnotherModuleThan(module))
        .because(
            "a module's .internal packages are its implementation, free to change; others use its public API")
        .check(classes);
  }

  @Test
  void packagesHaveNoCycles() {
    slices()
        .assignedFrom(packagesWithTheirInternals())
        .should()
        .beFreeOfCycles()
        .because(
            "a package is read, tested and changed with the packages it uses, not with those that use it")
        .check(classes);
  }

  private static DescribedPredicate<JavaClass> resideIn(OnceModule module) {
    String location = module.classes().toUri().toString();
    return DescribedPredicate.describe(
        "are in " + module,
        javaClass ->
            javaClass
                .getSource()
                .map(source -> source.getUri().toString().startsWith(location))
                .orElse(false));
  }

  private static DescribedPredicate<JavaClass> inPackagesOwnedBy(OnceModule module) {
    return DescribedPredicate.describe(
        "in " + module.rootPackage + " or a package below it that no other module owns",
        javaClass -> OnceModule.owning(javaClass.getPackageName()).orElse(null) == module);
  }

  private static DescribedPredicate<JavaClass> areAllowedIn(OnceModule module) {
    List<PackageMatcher> libraries =
        Stream.concat(module.libraries.stream(), OnceModule.EVERYWHERE.stream())
            .map(PackageMatcher::of)
            .toList();
    String modules =
        Stream.concat(Stream.of(module), module.allowedModules().stream())
            .map(OnceModule::toString)
            .collect(Collectors.joining(", "));
    return DescribedPredicate.describe(
        "are in the JDK, in "
            + modules
            + (module.anyLibrary() ? " or in any library" : " or in " + libraries(module)),
        target -> {
          JavaClass type = target.getBaseComponentType();
          if (type.isPrimitive()) {
            return true;
          }
          String packageName = type.getPackageName();
          if (OnceModule.JDK_PACKAGES.contains(packageName)) {
            return true;
          }
          var owner = OnceModule.owning(packageName);
          if (owner.isPresent()) {
            return owner.get() == module || module.allowedModules().contains(owner.get());
          }
          return module.anyLibrary()
              || libraries.stream().anyMatch(matcher -> matcher.matches(packageName));
        });
  }

  private static String libraries(OnceModule module) {
    return Stream.concat(module.libraries.stream(), OnceModule.EVERYWHERE.stream())
        .collect(Collectors.joining(", "));
  }

  private static DescribedPredicate<JavaClass> areInternalsOfAnotherModuleThan(OnceModule module) {
    return DescribedPredicate.describe(
        "are in another module's .internal package",
        target -> {
          JavaClass type = target.getBaseComponentType();
          String packageName = type.getPackageName();
          var owner = OnceModule.owning(packageName);
          return owner.isPresent()
              && owner.get() != module
              && OnceModule.isInternal(packageName)
              && !OnceModule.sharedWith(module, outermost(type));
        });
  }

  private static String outermost(JavaClass type) {
    JavaClass outer = type;
    while (outer.getEnclosingClass().isPresent()) {
      outer = outer.getEnclosingClass().get();
    }
    return outer.getName();
  }

  /**
   * One slice per package, its {@code .internal} packages counted with it: the public classes
   * construct their implementation there and the implementation takes the public types (once-jdbc's
   * {@code SqlOperations} takes {@code SqlDialect}), so the two are one unit by design; a cycle
   * between units is not.
   */
  private static SliceAssignment packagesWithTheirInternals() {
    return new SliceAssignment() {
      @Override
      public SliceIdentifier getIdentifierOf(JavaClass javaClass) {
        String packageName = javaClass.getPackageName();
        return OnceModule.owning(packageName).isPresent()
            ? SliceIdentifier.of(OnceModule.withoutInternal(packageName))
            : SliceIdentifier.ignore();
      }

      @Override
      public String getDescription() {
        return "packages of Once, each with its .internal packages,";
      }
    };
  }
}
