/** A JVM that does nothing: the host of a JDWP agent for the jdwp-version test. It says "idle"
 * once its main method runs (the source launcher has compiled it by then). */
public class Idle {
    public static void main(String[] args) throws InterruptedException {
        System.out.println("idle");
        System.out.flush();
        Thread.sleep(600_000L);  // ten minutes at most, if nothing stops it
    }
}
