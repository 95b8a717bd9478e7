package dev.tailor;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.logging.Level;

/**
 * Debian's headless Chromium driven through Debian's chromedriver by Selenium, for the tests of pages in a real
 * browser. Without {@value #CHROMIUM} or {@value #CHROMEDRIVER} the calling test is skipped, except under
 * {@code CI=true}, where it fails: CI installs both and must run these tests.
 */
public final class HeadlessChromium {
    /** The browser. */
    public static final String CHROMIUM = "/usr/bin/chromium";
    /** Its driver. */
    public static final String CHROMEDRIVER = "/usr/bin/chromedriver";

    private HeadlessChromium() {
    }

    /** Skips (or fails under CI) the calling test, which {@code what} names, when the browser or driver is missing. */
    public static void require(String what) {
        if (Files.isExecutable(Path.of(CHROMIUM)) && Files.isExecutable(Path.of(CHROMEDRIVER))) {
            return;
        }
        String message = what + " needs Debian's chromium and chromium-driver (" + CHROMIUM + " and " + CHROMEDRIVER
                + "): apt-get install chromium chromium-driver";
        if ("true".equals(System.getenv("CI"))) {
            Assertions.fail(message);
        }
        Assumptions.abort(message);
    }

    /**
     * Headless Chromium with the flags this machine's closed network needs, a fresh profile under {@code dir}, its
     * console log kept, and {@code extraArguments}; the driver and the browser named by path, so Selenium Manager never
     * runs.
     */
    public static ChromeDriver start(Path dir, String windowSize, String... extraArguments) throws IOException {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", "--window-size=" + windowSize,
                "--user-data-dir=" + Files.createDirectories(dir.resolve("chromium-profile")));
        options.addArguments(extraArguments);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(Path.of(CHROMEDRIVER).toFile())
                .usingAnyFreePort()
                .build();
        return new ChromeDriver(service, options);
    }
}
