/** What training and serving cost: measured process figures now; the cost model and hardware profiles later. */
package dev.tailor.cost;
