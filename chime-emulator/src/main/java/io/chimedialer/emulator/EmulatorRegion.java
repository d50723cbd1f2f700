package io.chimedialer.emulator;

import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One emulated AWS Region: its SIP media application, the phone numbers it owns, and its quotas.
 *
 * <p>Each SIP media application id belongs to exactly one Region; a Create naming that id is handled by
 * this Region's quotas, and its {@code FromPhoneNumber} must be one of {@link #fromNumbers()}. Quotas are
 * real-time rates (the emulator's time scale does not apply to them). Immutable and validated at
 * construction.
 *
 * @param name                  the Region name, e.g. {@code us-east-1}
 * @param sipMediaApplicationId the id of the Region's SIP media application
 * @param fromNumbers           E.164 numbers (with {@code +}) owned in this Region, at least one
 * @param createTps             CreateSipMediaApplicationCall requests per second (token bucket, burst = one second's worth, at least 1)
 * @param updateTps             UpdateSipMediaApplicationCall requests per second (token bucket as above)
 * @param maxActiveCalls        SIP media application active-call quota; a Create beyond it gets ResourceLimitExceededException
 */
public record EmulatorRegion(String name, String sipMediaApplicationId, List<String> fromNumbers,
                             double createTps, double updateTps, int maxActiveCalls) {

    /** AWS's default CreateSipMediaApplicationCall rate: 1 per second per Region (CHIME.md §2.1). */
    public static final double AWS_DEFAULT_CREATE_TPS = 1;
    /** AWS's default UpdateSipMediaApplicationCall rate: 5 per second per Region. */
    public static final double AWS_DEFAULT_UPDATE_TPS = 5;
    /** AWS's default SIP media application active-call quota: 10 per Region. */
    public static final int AWS_DEFAULT_MAX_ACTIVE_CALLS = 10;

    private static final Pattern E164 = Pattern.compile("^\\+[1-9]\\d{1,14}$");

    public EmulatorRegion {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(sipMediaApplicationId, "sipMediaApplicationId");
        Objects.requireNonNull(fromNumbers, "fromNumbers");
        if (name.isBlank()) {
            throw new IllegalArgumentException("name must not be blank");
        }
        if (sipMediaApplicationId.isBlank()) {
            throw new IllegalArgumentException("sipMediaApplicationId must not be blank (region " + name + ")");
        }
        fromNumbers = List.copyOf(fromNumbers);
        if (fromNumbers.isEmpty()) {
            throw new IllegalArgumentException("fromNumbers must not be empty (region " + name + ")");
        }
        for (String n : fromNumbers) {
            if (!E164.matcher(n).matches()) {
                throw new IllegalArgumentException("fromNumbers: '" + n + "' is not E.164 with a leading + (region " + name + ")");
            }
        }
        if (!(createTps > 0) || Double.isInfinite(createTps)) {
            throw new IllegalArgumentException("createTps must be > 0 (region " + name + ")");
        }
        if (!(updateTps > 0) || Double.isInfinite(updateTps)) {
            throw new IllegalArgumentException("updateTps must be > 0 (region " + name + ")");
        }
        if (maxActiveCalls < 1) {
            throw new IllegalArgumentException("maxActiveCalls must be >= 1 (region " + name + ")");
        }
    }

    /** A Region with AWS's default quotas (1 Create/s, 5 Update/s, 10 active calls). */
    public static EmulatorRegion of(String name, String sipMediaApplicationId, List<String> fromNumbers) {
        return new EmulatorRegion(name, sipMediaApplicationId, fromNumbers,
                AWS_DEFAULT_CREATE_TPS, AWS_DEFAULT_UPDATE_TPS, AWS_DEFAULT_MAX_ACTIVE_CALLS);
    }

    /** This Region with other quotas. */
    public EmulatorRegion withQuotas(double createTps, double updateTps, int maxActiveCalls) {
        return new EmulatorRegion(name, sipMediaApplicationId, fromNumbers, createTps, updateTps, maxActiveCalls);
    }

    /**
     * The built-in Regions: us-east-1 (SMA {@code 11111111-1111-4111-8111-111111111111}, numbers
     * +17035550100..102) and us-west-2 (SMA {@code 22222222-2222-4222-8222-222222222222}, numbers
     * +12065550100..102), each with quotas as if raised tenfold: 10 Create/s, 50 Update/s, 100 active calls.
     */
    public static List<EmulatorRegion> defaults() {
        return List.of(
                new EmulatorRegion("us-east-1", "11111111-1111-4111-8111-111111111111",
                        List.of("+17035550100", "+17035550101", "+17035550102"), 10, 50, 100),
                new EmulatorRegion("us-west-2", "22222222-2222-4222-8222-222222222222",
                        List.of("+12065550100", "+12065550101", "+12065550102"), 10, 50, 100));
    }
}
