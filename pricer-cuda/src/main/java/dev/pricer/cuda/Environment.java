package dev.pricer.cuda;

import java.util.Map;

/** The CUDA backend's settings read from environment variables, each refused by name when its value makes no sense. */
final class Environment {

    private Environment() {
    }

    /** Whether an on/off switch is on: unset, empty or "0" is off, "1" is on, anything else an error. */
    static boolean switchedOn(Map<String, String> env, String variable) {
        String value = env.get(variable);
        if (value == null || value.isEmpty() || value.equals("0")) return false;
        if (value.equals("1")) return true;
        throw new IllegalArgumentException(variable + "=" + value + ": set it to 1 to turn it on, or to 0 (or leave it unset) to turn it off");
    }

    /** A count from 0 to {@code most}: {@code unset} when unset or empty, anything else an error. */
    static int count(Map<String, String> env, String variable, int unset, int most) {
        String value = env.get(variable);
        if (value == null || value.isEmpty()) return unset;
        int n = -1;
        if (value.chars().allMatch(Character::isDigit) && value.length() <= 9) n = Integer.parseInt(value);
        if (n < 0 || n > most) {
            throw new IllegalArgumentException(variable + "=" + value + ": set it to a whole number from 0 to " + most + ", or leave it unset for " + unset);
        }
        return n;
    }
}
